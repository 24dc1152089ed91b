// Resolves the few MPI calls data-parallel training needs from Open MPI's shared library. Open MPI's
// handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM) are the addresses of exported objects, and MPI_IN_PLACE
// is the constant 1, so nothing of mpi.h is needed here.
#include "CPEFTMPI.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

typedef void *handle;

static int (*init_thread)(int *, char ***, int, int *);
static int (*initialized)(int *);
static int (*finalized)(int *);
static int (*finalize)(void);
static int (*comm_rank)(handle, int *);
static int (*comm_size)(handle, int *);
static int (*allreduce)(const void *, void *, int, handle, handle, handle);
static int (*bcast)(void *, int, handle, int, handle);
static int (*barrier)(handle);
static int (*abort_job)(handle, int);
static int (*error_string)(int, char *, int *);
static handle comm_world, float_type, double_type, sum_op;
static void *const in_place = (void *)1;
static const int funneled = 1;  // MPI_THREAD_FUNNELED in every MPI implementation

#define RESOLVE(target, symbol)                                                                  \
    do {                                                                                         \
        *(void **)(&target) = dlsym(library_handle, symbol);                                     \
        if (!target) {                                                                           \
            snprintf(error, error_size, "%s has no symbol %s (not Open MPI 4 or 5?)", library,   \
                     symbol);                                                                    \
            return -1;                                                                           \
        }                                                                                        \
    } while (0)

int peft_mpi_load(const char *library, char *error, size_t error_size) {
    // RTLD_GLOBAL: Open MPI's plugins (mca_*.so) resolve libmpi's and libopen-pal's symbols globally.
    void *library_handle = dlopen(library, RTLD_NOW | RTLD_GLOBAL);
    if (!library_handle) {
        const char *reason = dlerror();
        snprintf(error, error_size, "%s", reason ? reason : "dlopen failed");
        return -1;
    }
    RESOLVE(init_thread, "MPI_Init_thread");
    RESOLVE(initialized, "MPI_Initialized");
    RESOLVE(finalized, "MPI_Finalized");
    RESOLVE(finalize, "MPI_Finalize");
    RESOLVE(comm_rank, "MPI_Comm_rank");
    RESOLVE(comm_size, "MPI_Comm_size");
    RESOLVE(allreduce, "MPI_Allreduce");
    RESOLVE(bcast, "MPI_Bcast");
    RESOLVE(barrier, "MPI_Barrier");
    RESOLVE(abort_job, "MPI_Abort");
    RESOLVE(error_string, "MPI_Error_string");
    RESOLVE(comm_world, "ompi_mpi_comm_world");
    RESOLVE(float_type, "ompi_mpi_float");
    RESOLVE(double_type, "ompi_mpi_double");
    RESOLVE(sum_op, "ompi_mpi_op_sum");
    return 0;
}

int peft_mpi_initialize(int *provided) {
    int flag = 0;
    int status = initialized(&flag);
    if (status != 0 || flag) return status;
    return init_thread(NULL, NULL, funneled, provided);
}

int peft_mpi_finalize(void) {
    if (!finalize) return 0;
    int started = 0, ended = 0;
    initialized(&started);
    finalized(&ended);
    if (!started || ended) return 0;
    return finalize();
}

int peft_mpi_rank(int *rank) { return comm_rank(comm_world, rank); }

int peft_mpi_size(int *size) { return comm_size(comm_world, size); }

int peft_mpi_allreduce_sum_float(float *values, long long count) {
    for (long long start = 0; start < count; start += INT_MAX) {
        long long chunk = count - start < INT_MAX ? count - start : INT_MAX;
        int status = allreduce(in_place, values + start, (int)chunk, float_type, sum_op, comm_world);
        if (status != 0) return status;
    }
    return 0;
}

int peft_mpi_allreduce_sum_double(double *values, long long count) {
    for (long long start = 0; start < count; start += INT_MAX) {
        long long chunk = count - start < INT_MAX ? count - start : INT_MAX;
        int status =
            allreduce(in_place, values + start, (int)chunk, double_type, sum_op, comm_world);
        if (status != 0) return status;
    }
    return 0;
}

int peft_mpi_broadcast_float(float *values, long long count, int root) {
    for (long long start = 0; start < count; start += INT_MAX) {
        long long chunk = count - start < INT_MAX ? count - start : INT_MAX;
        int status = bcast(values + start, (int)chunk, float_type, root, comm_world);
        if (status != 0) return status;
    }
    return 0;
}

int peft_mpi_barrier(void) { return barrier(comm_world); }

void peft_mpi_abort(int code) {
    if (abort_job) abort_job(comm_world, code);
}

void peft_mpi_error_string(int code, char *text, int text_size) {
    if (text_size <= 0) return;
    text[0] = 0;
    if (!error_string) return;
    // MPI_MAX_ERROR_STRING is 256 in Open MPI; MPI writes at most that many bytes.
    char buffer[1024];
    int length = 0;
    if (error_string(code, buffer, &length) != 0) return;
    snprintf(text, (size_t)text_size, "%.*s", length, buffer);
}

// Open MPI, loaded at run time: plain C entry points so Swift never sees MPI's handle types and the
// package builds and runs where MPI is not installed.
#ifndef CPEFTMPI_H
#define CPEFTMPI_H

#include <stddef.h>

/// Loads `library` (for example "libmpi.so.40") and resolves the calls and handles below. Returns 0, or
/// -1 with a message in `error` (dlopen's or the missing symbol's).
int peft_mpi_load(const char *library, char *error, size_t error_size);

/// MPI_Init_thread with MPI_THREAD_FUNNELED (only the main thread calls MPI); writes the level MPI
/// provides. Returns MPI's error code (0 on success).
int peft_mpi_initialize(int *provided);

/// MPI_Finalize, once; a no-op when MPI was never initialised or is already finalised.
int peft_mpi_finalize(void);

/// The calling process's rank and the world size in MPI_COMM_WORLD.
int peft_mpi_rank(int *rank);
int peft_mpi_size(int *size);

/// In-place sum across all ranks of `count` floats (doubles), in chunks that fit MPI's int count.
int peft_mpi_allreduce_sum_float(float *values, long long count);
int peft_mpi_allreduce_sum_double(double *values, long long count);

/// `count` floats from `root` to every rank, in place.
int peft_mpi_broadcast_float(float *values, long long count, int root);

/// Blocks until every rank has called it.
int peft_mpi_barrier(void);

/// Ends every rank of the job with `code`.
void peft_mpi_abort(int code);

/// MPI's text for an error code, or "" when the library is not loaded.
void peft_mpi_error_string(int code, char *text, int text_size);

#endif

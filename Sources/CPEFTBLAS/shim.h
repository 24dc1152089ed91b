#ifndef CPEFTBLAS_SHIM_H
#define CPEFTBLAS_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#endif

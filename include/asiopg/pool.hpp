#ifndef ASIOPG_POOL_HPP
#define ASIOPG_POOL_HPP

// The connection pool sub-library (link asiopg_pool): connection_pool, pooled_connection,
// pool_params, pool_stats.
#include <asiopg/pool/connection_pool.hpp>
#include <asiopg/pool/pool_params.hpp>
#include <asiopg/pool/pool_stats.hpp>
#include <asiopg/pool/pooled_connection.hpp>

#endif

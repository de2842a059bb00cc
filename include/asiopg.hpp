#ifndef ASIOPG_HPP
#define ASIOPG_HPP

// asiopg: an asynchronous PostgreSQL client for Boost.Asio, built on libpq.

#include <asiopg/cancel_after.hpp>
#include <asiopg/connect_params.hpp>
#include <asiopg/connection.hpp>
#include <asiopg/copy.hpp>
#include <asiopg/diagnostics.hpp>
#include <asiopg/error.hpp>
#include <asiopg/logger.hpp>
#include <asiopg/notification.hpp>
#include <asiopg/param_buffer.hpp>
#include <asiopg/params.hpp>
#include <asiopg/pipeline.hpp>
#include <asiopg/result.hpp>
#include <asiopg/result_traits.hpp>
#include <asiopg/row_batch.hpp>
#include <asiopg/server_cursor.hpp>
#include <asiopg/sql_format.hpp>
#include <asiopg/sqlstate.hpp>
#include <asiopg/statement.hpp>
#include <asiopg/types/array.hpp>
#include <asiopg/types/chrono.hpp>
#include <asiopg/types/numeric.hpp>
#include <asiopg/types/uuid.hpp>

#endif

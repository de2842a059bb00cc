#ifndef ASIOPG_TRANSACTION_HPP
#define ASIOPG_TRANSACTION_HPP

// The transaction sub-library (link asiopg_transaction): explicit transactions and savepoints,
// scoped helpers with retries, two-phase commit.
#include <asiopg/transaction/async_transaction.hpp>
#include <asiopg/transaction/transaction.hpp>
#include <asiopg/transaction/transaction_options.hpp>
#include <asiopg/transaction/two_phase.hpp>

#endif

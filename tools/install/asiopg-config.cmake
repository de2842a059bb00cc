# asiopg's CMake package (installed by `b2 install`): find_package(asiopg) gives
#   asiopg::core         the client (connections, queries, results, pipelines, COPY …)
#   asiopg::pool         the connection pool            (links asiopg::core)
#   asiopg::transaction  the transaction helpers        (links asiopg::core)
#   asiopg::sql          the query builder              (links asiopg::core)
# with their dependencies: Boost (headers, 1.81+), libpq as PostgreSQL::PostgreSQL, threads.
# C++20 is required (a compile feature of every target). Relocatable: paths are found from
# this file's place, <prefix>/lib/cmake/asiopg/.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(Boost 1.81 CONFIG)
find_package(PostgreSQL QUIET)
if(NOT TARGET PostgreSQL::PostgreSQL)
    # FindPostgreSQL wants the server's catalog headers on some systems: libpq alone will do.
    find_library(ASIOPG_LIBPQ NAMES pq)
    find_path(ASIOPG_LIBPQ_INCLUDE NAMES libpq-fe.h PATH_SUFFIXES postgresql)
    if(NOT ASIOPG_LIBPQ OR NOT ASIOPG_LIBPQ_INCLUDE)
        set(asiopg_FOUND FALSE)
        set(asiopg_NOT_FOUND_MESSAGE "asiopg needs libpq (Debian: libpq-dev)")
        return()
    endif()
    add_library(PostgreSQL::PostgreSQL UNKNOWN IMPORTED)
    set_target_properties(PostgreSQL::PostgreSQL PROPERTIES
        IMPORTED_LOCATION "${ASIOPG_LIBPQ}"
        INTERFACE_INCLUDE_DIRECTORIES "${ASIOPG_LIBPQ_INCLUDE}")
endif()

get_filename_component(_asiopg_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

function(_asiopg_add_library name file)
    if(TARGET asiopg::${name})
        return()
    endif()
    set(_location "${_asiopg_prefix}/lib/lib${file}.so")
    if(NOT EXISTS "${_location}")
        set(asiopg_FOUND FALSE PARENT_SCOPE)
        set(asiopg_NOT_FOUND_MESSAGE "asiopg: ${_location} is missing" PARENT_SCOPE)
        return()
    endif()
    add_library(asiopg::${name} SHARED IMPORTED)
    set_target_properties(asiopg::${name} PROPERTIES
        IMPORTED_LOCATION "${_location}"
        IMPORTED_SONAME "lib${file}.so"
        INTERFACE_INCLUDE_DIRECTORIES "${_asiopg_prefix}/include"
        INTERFACE_COMPILE_FEATURES cxx_std_20
        # What the headers were compiled with: the same Asio configuration on both sides.
        INTERFACE_COMPILE_DEFINITIONS "BOOST_ASIO_DISABLE_BOOST_COROUTINE;BOOST_ASIO_NO_DEPRECATED"
        INTERFACE_LINK_LIBRARIES "${ARGN}")
endfunction()

_asiopg_add_library(core asiopg_core Boost::headers PostgreSQL::PostgreSQL Threads::Threads)
_asiopg_add_library(pool asiopg_pool asiopg::core)
_asiopg_add_library(transaction asiopg_transaction asiopg::core)
_asiopg_add_library(sql asiopg_sql asiopg::core)
unset(_asiopg_prefix)

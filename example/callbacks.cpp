// Completion handlers: every operation takes a callback, and each callback starts the next step.
// Connects, runs `SELECT 1` and a parameterised query, then a query with a syntax error to show
// how a handler learns what went wrong: an error_code, plus the connection's diagnostics.
//
// Usage: callbacks [conninfo]   (default: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
// Exit status 0 when everything behaved as expected.

#include <asiopg.hpp>

#include <boost/asio/io_context.hpp>

#include <exception>
#include <iostream>
#include <string>

namespace asio = boost::asio;

//[callbacks
// One object holds the connection and the state every step shares; it outlives ctx.run().
class session {
public:
    explicit session(asio::io_context& ctx) : conn_(ctx) {}

    void start(const std::string& conninfo) {
        // The conninfo is copied: the caller's string may go away at once.
        conn_.async_connect(conninfo, [this](asiopg::error_code ec) {
            if (ec) return fail("connect", ec);
            select_one();
        });
    }

    bool succeeded() const { return succeeded_ && shared_; }

private:
    void select_one() {
        conn_.async_execute("SELECT 1", [this](asiopg::error_code ec, asiopg::result r) {
            if (ec) return fail("SELECT 1", ec);
            std::cout << "SELECT 1 -> " << r[0][0].as<int>() << '\n';
            select_squares();
        });
        // Started while SELECT 1 is in flight: it waits for its turn (sent at once, in pipeline
        // mode, when it can be) and its handler gets its own result, after SELECT 1's.
        conn_.async_execute("SELECT 2", [this](asiopg::error_code ec, asiopg::result r) {
            if (ec) return fail("SELECT 2", ec);
            std::cout << "SELECT 2 -> " << r[0][0].as<int>() << '\n';
            shared_ = r[0][0].as<int>() == 2;
        });
    }

    void select_squares() {
        // params() refers to limit without copying it. With a callback the operation is
        // initiated (the values are encoded) before async_execute returns: a local is enough.
        int limit = 3;
        conn_.async_execute("SELECT n, n * n AS square FROM generate_series(1, $1) AS n",
                            asiopg::params(limit), [this](asiopg::error_code ec, asiopg::result r) {
                                if (ec) return fail("squares", ec);
                                for (asiopg::row_view row : r)
                                    std::cout << row["n"].as<int>() << " squared is "
                                              << row["square"].as<int>() << '\n';
                                select_with_a_typo();
                            });
    }

    void select_with_a_typo() {
        conn_.async_execute("SELEC 1", [this](asiopg::error_code ec, asiopg::result) {
            // The handler gets the error code; the connection keeps the server's diagnostics
            // until the next operation fails.
            const asiopg::diagnostics& diag = conn_.get_diagnostics();
            std::cout << "error code: " << ec.category().name() << ": " << ec.message() << '\n'
                      << "SQLSTATE:   " << diag.sqlstate << '\n'
                      << "message:    " << diag.message << '\n';
            succeeded_ = ec == asiopg::sqlstate::syntax_error && conn_.is_open();
        });
    }

    void fail(const char* step, asiopg::error_code ec) {
        std::cerr << step << " failed: " << ec.message() << ": "
                  << conn_.get_diagnostics().to_string() << '\n';
    }

    asiopg::connection conn_;
    bool succeeded_ = false;
    bool shared_ = false;
};

int main(int argc, char** argv) {
    asio::io_context ctx;
    session s(ctx);
    s.start(argc > 1 ? argv[1] : "");
    try {
        ctx.run(); // returns when no handler is left: the chain has ended
    } catch (const std::exception& e) { // e.g. an error_with_diagnostics thrown by as<T>()
        std::cerr << "callbacks: " << e.what() << '\n';
        return 1;
    }
    return s.succeeded() ? 0 : 1;
}
//]

// TLS and authentication against the test server: its certificate is signed by a throwaway CA
// (tools/pg-cluster, ASIOPG_TEST_SSL_ROOT_CERT) for "localhost" and 127.0.0.1. sslmode=require
// encrypts; verify-ca and verify-full check the certificate, and a wrong host name or an unknown
// CA is refused with libpq's reason. SCRAM-SHA-256 is the server's only password method here.
#include <asiopg.hpp>
#include <asiopg/pool.hpp>

#include "pool.hpp"
#include "server.hpp"
#include "styles.hpp"
#include "test_case.hpp"

#include <cstdlib>
#include <fstream>
#include <string>

using namespace asiopg;
using namespace asiopg::test;

namespace {

std::string root_cert() {
    const char* path = std::getenv("ASIOPG_TEST_SSL_ROOT_CERT");
    BOOST_TEST_REQUIRE(path != nullptr, "ASIOPG_TEST_SSL_ROOT_CERT is not set: run under tools/test or "
                                        "eval \"$(tools/pg-cluster env)\" (a cluster with TLS)");
    return path;
}

// The test server over TCP as `host` (a name libpq checks the certificate against), its address
// given apart so that no name resolution is involved.
connect_params tls_params(const std::string& host, const std::string& sslmode) {
    connect_params p = server_params("127.0.0.1");
    p.host = host;
    p.options = {{"hostaddr", "127.0.0.1"}, {"sslmode", sslmode}};
    if (sslmode.rfind("verify", 0) == 0) p.options.emplace_back("sslrootcert", root_cert());
    return p;
}

outcome<no_value> connect(asio::io_context& ctx, connection& conn, const connect_params& p, style s = style::callback) {
    return run<no_value>(s, ctx, [&](auto&& tok) { return conn.async_connect(p, tok); });
}

// What the server says about this session's TLS.
bool server_sees_tls(asio::io_context& ctx, connection& conn) {
    auto r = run<result>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", tok);
    });
    BOOST_TEST_REQUIRE(!r.ec, conn.get_diagnostics().message);
    return (*r.value)[0][0].as<bool>();
}

} // namespace

BOOST_AUTO_TEST_SUITE(tls_and_auth)

ASIOPG_TEST_CASE(sslmode_require_encrypts_in_every_style) {
    for (style s : all_styles) {
        BOOST_TEST_CONTEXT(s) {
            asio::io_context ctx;
            connection conn(ctx);
            auto c = connect(ctx, conn, tls_params("localhost", "require"), s);
            BOOST_TEST_REQUIRE(!c.ec, conn.get_diagnostics().message);
            BOOST_TEST(server_sees_tls(ctx, conn));
        }
    }
    // And sslmode=disable does not.
    asio::io_context ctx;
    connection conn(ctx);
    BOOST_TEST_REQUIRE(!connect(ctx, conn, tls_params("localhost", "disable")).ec);
    BOOST_TEST(!server_sees_tls(ctx, conn));
}

ASIOPG_TEST_CASE(verify_full_accepts_the_right_name_and_refuses_a_wrong_one) {
    for (const char* good : {"localhost", "127.0.0.1"}) {
        BOOST_TEST_CONTEXT(good) {
            asio::io_context ctx;
            connection conn(ctx);
            auto c = connect(ctx, conn, tls_params(good, "verify-full"));
            BOOST_TEST_REQUIRE(!c.ec, conn.get_diagnostics().message);
            BOOST_TEST(server_sees_tls(ctx, conn));
        }
    }
    for (style s : {style::callback, style::future, style::awaitable}) {
        BOOST_TEST_CONTEXT(s) {
            asio::io_context ctx;
            connection conn(ctx);
            auto c = connect(ctx, conn, tls_params("db.wrong-name.example", "verify-full"), s);
            BOOST_TEST((c.ec == client_errc::connect_failed), c.ec.message());
            BOOST_TEST(!conn.is_open());
            const std::string why = conn.get_diagnostics().message;
            BOOST_TEST(why.find("does not match host name") != std::string::npos, why);
            if (throws(s)) BOOST_TEST(c.what.find("does not match host name") != std::string::npos, c.what);
            BOOST_TEST(why.find(server_password()) == std::string::npos);
        }
    }
    // verify-ca checks the signer, not the name.
    asio::io_context ctx;
    connection conn(ctx);
    BOOST_TEST(!connect(ctx, conn, tls_params("db.wrong-name.example", "verify-ca")).ec, conn.get_diagnostics().message);
}

ASIOPG_TEST_CASE(a_certificate_from_an_unknown_ca_is_refused) {
    // A root certificate that did not sign the server's: the server's own (a leaf, not a CA).
    connect_params p = tls_params("localhost", "verify-ca");
    const std::string self_signed_elsewhere = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                                              "/asiopg-tls-test-unknown-ca.crt";
    {
        // An unrelated CA certificate (made once; any valid PEM certificate not in the chain will do).
        std::ifstream have(self_signed_elsewhere);
        if (!have) {
            const std::string cmd = "openssl req -new -x509 -days 1 -nodes -subj '/CN=unrelated CA' -keyout /dev/null -out '" +
                                    self_signed_elsewhere + "' >/dev/null 2>&1";
            BOOST_TEST_REQUIRE(std::system(cmd.c_str()) == 0, "openssl failed");
        }
    }
    for (auto& [k, v] : p.options)
        if (k == "sslrootcert") v = self_signed_elsewhere;
    asio::io_context ctx;
    connection conn(ctx);
    auto c = connect(ctx, conn, p);
    BOOST_TEST((c.ec == client_errc::connect_failed), c.ec.message());
    BOOST_TEST(conn.get_diagnostics().message.find("certificate verify failed") != std::string::npos,
               conn.get_diagnostics().message);
}

ASIOPG_TEST_CASE(a_pool_over_verified_tls) {
    asio::io_context ctx;
    pool_params pp;
    pp.connect = tls_params("localhost", "verify-full");
    pp.min_size = 2;
    pp.max_size = 2;
    connection_pool pool(ctx, pp);
    for (int i = 0; i < 5; ++i) {
        auto r = run<result>(style::callback, ctx, [&](auto&& tok) {
            return pool.async_execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", tok);
        });
        BOOST_TEST_REQUIRE(!r.ec, r.ec.message() << " " << pool.last_connect_error().message);
        BOOST_TEST((*r.value)[0][0].as<bool>());
    }
    BOOST_TEST(!run<no_value>(style::callback, ctx, [&](auto&& tok) { return pool.async_close(tok); }).ec);
}

// SCRAM-SHA-256: the server asks for it (pg_hba.conf) and stores it; a wrong password is a
// clean error that does not repeat the password, over TCP with TLS and without.
ASIOPG_TEST_CASE(scram_sha_256_authentication) {
    asio::io_context ctx;
    connection conn(ctx);
    connect_params p = tls_params("localhost", "require");
    BOOST_TEST_REQUIRE(!connect(ctx, conn, p).ec, conn.get_diagnostics().message);
    auto r = run<result>(style::callback, ctx, [&](auto&& tok) {
        return conn.async_execute("SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = current_user", tok);
    });
    // pg_authid is for superusers: the test user may not read it; then ask the server's setting.
    if (r.ec) {
        r = run<result>(style::callback, ctx, [&](auto&& tok) { return conn.async_execute("SHOW password_encryption", tok); });
        BOOST_TEST_REQUIRE(!r.ec);
        BOOST_TEST((*r.value)[0][0].as<std::string>() == "scram-sha-256");
    } else {
        BOOST_TEST((*r.value)[0][0].as<std::string>() == "SCRAM-SHA-256$");
    }
    for (const char* mode : {"require", "disable"}) {
        BOOST_TEST_CONTEXT(mode) {
            connect_params wrong = tls_params("localhost", mode);
            wrong.password = "Not-The-Password-42";
            for (style s : {style::callback, style::awaitable}) {
                connection other(ctx);
                auto c = connect(ctx, other, wrong, s);
                BOOST_TEST((c.ec == client_errc::connect_failed), c.ec.message());
                const std::string why = other.get_diagnostics().message;
                BOOST_TEST(why.find("password authentication failed") != std::string::npos, why);
                BOOST_TEST(why.find(wrong.password) == std::string::npos, why);
                BOOST_TEST(c.what.find(wrong.password) == std::string::npos, c.what);
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

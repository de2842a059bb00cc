// A user type read from and sent to PostgreSQL through asiopg's two customization points:
// result_traits<T> (reading, text and binary) and param_traits<T> (sending).
// The type is a composite:  CREATE TYPE point2d AS (x float8, y float8).
//
// Usage: custom_type [conninfo]   (default: libpq's PG* environment variables)

//[custom_type
#include <asiopg.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <cstring>
#include <iostream>
#include <string>

struct point2d {
    double x = 0;
    double y = 0;
};

namespace asiopg {

// Reading: the text form is "(1.5,-2)"; the binary form is a field count, then per field its
// type OID, length and bytes (float8 fields here).
template <> struct result_traits<point2d> {
    static void decode(const value_view& v, point2d& out) {
        if (v.format == data_format::binary) return decode_binary(v, out);
        std::string_view s = v.bytes;
        if (s.size() < 5 || s.front() != '(' || s.back() != ')') conversion_failed(v, "point2d", "not a composite");
        s = s.substr(1, s.size() - 2);
        std::size_t comma = s.find(',');
        if (comma == std::string_view::npos) conversion_failed(v, "point2d", "expected two fields");
        out.x = number(v, s.substr(0, comma));
        out.y = number(v, s.substr(comma + 1));
    }

private:
    static double number(const value_view& v, std::string_view text) {
        double d = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
        if (ec != std::errc() || ptr != text.data() + text.size()) conversion_failed(v, "point2d", "bad number");
        return d;
    }
    static void decode_binary(const value_view& v, point2d& out) {
        // 4 (count) + 2 × (4 type + 4 length + 8 float8)
        if (v.bytes.size() != 4 + 2 * 16) conversion_failed(v, "point2d", "unexpected binary layout");
        double* fields[] = {&out.x, &out.y};
        for (int i = 0; i < 2; ++i) {
            // each field's bytes are a float8 in its own binary format: decode it as one
            value_view field{v.bytes.substr(4 + 16 * static_cast<std::size_t>(i) + 8, 8), data_format::binary,
                             oids::float8};
            result_traits<double>::decode(field, *fields[i]);
        }
    }
};

// Sending: the text form, with the type left for the server to infer from `$1::point2d`.
template <> struct param_traits<point2d> {
    static param_ref encode(const point2d& p, param_scratch& s) {
        s.heap = "(" + std::to_string(p.x) + "," + std::to_string(p.y) + ")";
        return {s.heap.c_str(), static_cast<int>(s.heap.size()), data_format::text, 0};
    }
};

} // namespace asiopg

namespace asio = boost::asio;

asio::awaitable<void> run(std::string conninfo) {
    asiopg::connection conn(co_await asio::this_coro::executor);
    co_await conn.async_connect(conninfo, asio::use_awaitable);
    co_await conn.async_execute("DROP TYPE IF EXISTS point2d CASCADE; CREATE TYPE point2d AS (x float8, y float8)",
                                asio::use_awaitable);

    point2d p{1.5, -2};
    for (auto format : {asiopg::data_format::text, asiopg::data_format::binary}) {
        conn.set_result_format(format);
        asiopg::result r = co_await conn.async_execute(
            "SELECT $1::point2d AS p, ARRAY[$1::point2d, ROW(3, 4)::point2d] AS ps", asiopg::params(p),
            asio::use_awaitable);
        auto back = r[0]["p"].as<point2d>();
        auto all = r[0]["ps"].as<std::vector<point2d>>(); // arrays of it come for free
        std::cout << "(" << back.x << ", " << back.y << ") and " << all.size() << " in an array, last ("
                  << all[1].x << ", " << all[1].y << ")\n";
        if (back.x != p.x || back.y != p.y || all[1].y != 4) throw std::runtime_error("round trip failed");
    }
    co_await conn.async_execute("DROP TYPE point2d", asio::use_awaitable);
}
//]

int main(int argc, char** argv) {
    asio::io_context ctx;
    asio::co_spawn(ctx, run(argc > 1 ? argv[1] : ""), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    try {
        ctx.run();
    } catch (const std::exception& e) {
        std::cerr << "custom_type: " << e.what() << '\n';
        return 1;
    }
}

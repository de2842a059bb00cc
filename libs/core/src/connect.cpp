// async_connect: conninfo → keyword list, asynchronous name resolution, then PQconnectPoll.
#include <asiopg/connection.hpp>

#include "driver.hpp"
#include "machine_base.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <set>

namespace asiopg {
namespace detail {
namespace {

using keyword_list = std::vector<std::pair<std::string, std::string>>;

void set_keyword(keyword_list& kw, std::string_view key, std::string value) {
    for (auto& [k, v] : kw)
        if (k == key) { v = std::move(value); return; }
    kw.emplace_back(std::string(key), std::move(value));
}

std::string take_keyword(keyword_list& kw, std::string_view key) {
    auto it = std::find_if(kw.begin(), kw.end(), [&](auto& p) { return p.first == key; });
    if (it == kw.end()) return {};
    std::string v = std::move(it->second);
    kw.erase(it);
    return v;
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    if (s.empty()) return out;
    std::size_t start = 0;
    for (;;) {
        std::size_t comma = s.find(',', start);
        out.push_back(s.substr(start, comma - start));
        if (comma == std::string::npos) return out;
        start = comma + 1;
    }
}

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

// A password written in a conninfo that failed to parse, so the parser's message (which may
// quote a fragment of the string) can be redacted.
std::string guess_password(std::string_view conninfo) {
    std::size_t p = conninfo.find("password");
    if (p != std::string_view::npos) {
        std::size_t eq = conninfo.find('=', p);
        if (eq != std::string_view::npos) {
            std::size_t b = conninfo.find_first_not_of(" '", eq + 1);
            std::size_t e = b == std::string_view::npos ? b : conninfo.find_first_of(" '&", b);
            if (b != std::string_view::npos) return std::string(conninfo.substr(b, e - b));
        }
    }
    std::size_t scheme = conninfo.find("://");
    std::size_t at = conninfo.find('@');
    if (scheme != std::string_view::npos && at != std::string_view::npos && at > scheme) {
        std::size_t colon = conninfo.find(':', scheme + 3);
        if (colon != std::string_view::npos && colon < at)
            return std::string(conninfo.substr(colon + 1, at - colon - 1));
    }
    return {};
}

bool is_ip_literal(const std::string& host) {
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// One host libpq will try: `hostaddr` set means no name resolution inside libpq.
struct target {
    std::string host;
    std::string hostaddr;
    std::string port;
    bool needs_resolution() const {
        return hostaddr.empty() && !host.empty() && host[0] != '/' && host[0] != '@' &&
               !is_ip_literal(host);
    }
};

std::string join(const std::vector<target>& ts, std::string target::*field) {
    std::string out;
    for (std::size_t i = 0; i < ts.size(); ++i) {
        if (i) out += ',';
        out += ts[i].*field;
    }
    return out;
}

class connect_machine : public machine_base {
public:
    static constexpr socket_use sockets = socket_use::per_wait;

    connect_machine(const connect_params& p, diagnostics* diag_out)
        : machine_base(diag_out), params_(&p) {}

    step start(connection_impl& impl) {
        step rejected;
        if (!begin(impl, rejected)) return rejected;
        impl.close();          // connecting again replaces the old session
        impl.active_op = id_;  // close() forgets the active op: this one still is
        impl.password.clear();
        if (auto failed = build_keywords(impl)) return *failed;
        if (timeout_ > std::chrono::milliseconds::zero()) impl.start_deadline(id_, timeout_);
        return next_resolution(impl);
    }

    const std::string& resolve_host() const { return pending_[resolving_].host; }
    std::string resolve_port() const { return "0"; }

    step resolved(connection_impl& impl, error_code ec, asio::ip::tcp::resolver::results_type rs) {
        if (ec == client_errc::timeout || ec == asio::error::operation_aborted) return stop(impl, ec);
        target& t = pending_[resolving_];
        if (ec) {
            resolve_errors_ += "could not translate host name \"" + t.host +
                               "\" to address: " + ec.message() + "\n";
        } else {
            std::set<std::string> seen;
            for (const auto& entry : rs) {
                std::string addr = entry.endpoint().address().to_string();
                if (seen.insert(addr).second) targets_.push_back({t.host, addr, t.port});
            }
        }
        ++resolving_;
        return next_resolution(impl);
    }

    step resume(connection_impl& impl, error_code ec) {
        if (ec) return stop(impl, ec);
        return poll(impl, PQconnectPoll(impl.pg));
    }

    template <class Self>
    void complete(Self& self, error_code ec) {
        self.complete(ec);
    }

private:
    // The libpq keyword list, the deadline and the hosts to try; a finished step on error.
    std::optional<step> build_keywords(connection_impl& impl) {
        const connect_params& p = *params_;
        if (!p.conninfo.empty()) {
            char* err = nullptr;
            PQconninfoOption* opts = PQconninfoParse(std::string(p.conninfo).c_str(), &err);
            if (!opts) {
                std::string msg = err ? err : "out of memory parsing the connection string";
                if (err) PQfreemem(err);
                while (!msg.empty() && msg.back() == '\n') msg.pop_back();
                msg = redact(std::move(msg), guess_password(p.conninfo));
                return fail(impl, client_errc::invalid_conninfo, redact(std::move(msg), p.password));
            }
            for (PQconninfoOption* o = opts; o->keyword; ++o)
                if (o->val && *o->val) keywords_.emplace_back(o->keyword, o->val);
            PQconninfoFree(opts);
        }
        if (!p.host.empty()) set_keyword(keywords_, "host", p.host);
        if (!p.port.empty()) set_keyword(keywords_, "port", p.port);
        if (!p.user.empty()) set_keyword(keywords_, "user", p.user);
        if (!p.password.empty()) set_keyword(keywords_, "password", p.password);
        if (!p.dbname.empty()) set_keyword(keywords_, "dbname", p.dbname);
        for (const auto& [k, v] : p.options) set_keyword(keywords_, k, v);

        for (const auto& [k, v] : keywords_)
            if (k == "password") impl.password = v;
        if (impl.password.empty()) impl.password = env("PGPASSWORD");

        // Our own deadline: libpq's connect_timeout only works for blocking connects.
        using namespace std::chrono;
        timeout_ = p.connect_timeout;
        if (timeout_ == milliseconds::zero()) {
            std::string t;
            for (const auto& [k, v] : keywords_)
                if (k == "connect_timeout") t = v;
            if (t.empty()) t = env("PGCONNECT_TIMEOUT");
            int secs = 30;
            if (!t.empty()) {
                auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), secs);
                if (ec != std::errc() || secs < 0) secs = 30;
                if (secs == 0) secs = -1;                 // libpq: 0 means wait forever
                else if (secs < 2) secs = 2;              // libpq: less than 2 s counts as 2 s
            }
            timeout_ = secs < 0 ? milliseconds(-1) : milliseconds(seconds(secs));
        }

        // Hosts: libpq would resolve names itself, blocking. Resolve them here and give libpq
        // `hostaddr` for each address (keeping `host` for TLS verification and .pgpass).
        std::string host = take_keyword(keywords_, "host");
        std::string hostaddr = take_keyword(keywords_, "hostaddr");
        std::string port = take_keyword(keywords_, "port");
        if (host.empty() && hostaddr.empty()) {
            host = env("PGHOST");
            hostaddr = env("PGHOSTADDR");
        }
        if (port.empty()) port = env("PGPORT");
        auto hosts = split_list(host), addrs = split_list(hostaddr), ports = split_list(port);
        std::size_t n = std::max(hosts.size(), addrs.size());
        if (n == 0) {
            if (!port.empty()) set_keyword(keywords_, "port", port); // libpq's default socket
            return std::nullopt;
        }
        if ((!hosts.empty() && hosts.size() != n) || (!addrs.empty() && addrs.size() != n))
            return fail(impl, client_errc::invalid_conninfo,
                        "could not match " + std::to_string(hosts.size()) + " host names to " +
                            std::to_string(addrs.size()) + " hostaddr values");
        if (ports.size() > 1 && ports.size() != n)
            return fail(impl, client_errc::invalid_conninfo,
                        "could not match " + std::to_string(ports.size()) + " port numbers to " +
                            std::to_string(n) + " hosts");
        for (std::size_t i = 0; i < n; ++i) {
            target t;
            if (!hosts.empty()) t.host = hosts[i];
            if (!addrs.empty()) t.hostaddr = addrs[i];
            if (!ports.empty()) t.port = ports.size() == 1 ? ports[0] : ports[i];
            pending_.push_back(std::move(t));
        }
        return std::nullopt;
    }

    // Resolves the next host name in order, keeping libpq's order of hosts; then connects.
    step next_resolution(connection_impl& impl) {
        for (; resolving_ < pending_.size(); ++resolving_) {
            if (pending_[resolving_].needs_resolution()) return {wait_for::resolve, {}};
            targets_.push_back(pending_[resolving_]);
        }
        return start_libpq(impl);
    }

    step start_libpq(connection_impl& impl) {
        if (!pending_.empty()) {
            if (targets_.empty()) {
                std::string msg = resolve_errors_;
                while (!msg.empty() && msg.back() == '\n') msg.pop_back();
                return fail(impl, client_errc::connect_failed, std::move(msg));
            }
            keywords_.emplace_back("host", join(targets_, &target::host));
            keywords_.emplace_back("hostaddr", join(targets_, &target::hostaddr));
            if (std::any_of(targets_.begin(), targets_.end(), [](auto& t) { return !t.port.empty(); }))
                keywords_.emplace_back("port", join(targets_, &target::port));
        }
        std::vector<const char*> keys, values;
        for (const auto& [k, v] : keywords_) {
            keys.push_back(k.c_str());
            values.push_back(v.c_str());
        }
        keys.push_back(nullptr);
        values.push_back(nullptr);
        impl.pg = PQconnectStartParams(keys.data(), values.data(), 0);
        if (!impl.pg) return fail(impl, client_errc::connect_failed, "out of memory starting a connection");
        if (PQstatus(impl.pg) == CONNECTION_BAD) {
            std::string msg = impl.libpq_message();
            impl.close();
            return fail(impl, client_errc::connect_failed, std::move(msg));
        }
        install_notice_receiver(impl);
        // libpq: start as if PQconnectPoll had returned PGRES_POLLING_WRITING.
        return step::write();
    }

    step poll(connection_impl& impl, PostgresPollingStatusType st) {
        switch (st) {
        case PGRES_POLLING_OK: {
            PQsetnonblocking(impl.pg, 1);
            if (error_code ec = impl.assign_socket()) return stop(impl, ec); // stable from now on
            impl.last_diagnostics.clear();
            return step::finish();
        }
        case PGRES_POLLING_READING: return step::read();
        case PGRES_POLLING_WRITING: return step::write();
        default: {
            std::string msg = impl.libpq_message();
            impl.close();
            return fail(impl, client_errc::connect_failed, std::move(msg));
        }
        }
    }

    // Ends the attempt after a timeout, a cancellation or a socket error.
    step stop(connection_impl& impl, error_code ec) {
        std::string so_far = impl.libpq_message();
        impl.close();
        std::string msg;
        if (ec == client_errc::timeout)
            msg = "timeout expired after " + std::to_string(timeout_.count()) + " ms while connecting";
        else if (ec == asio::error::operation_aborted)
            msg = "connect cancelled";
        else
            msg = "connect failed: " + ec.message();
        if (!so_far.empty()) msg += " (" + so_far + ")";
        return fail(impl, ec, std::move(msg));
    }

    const connect_params* params_; // valid during start() only
    keyword_list keywords_;
    std::vector<target> pending_;
    std::vector<target> targets_;
    std::size_t resolving_ = 0;
    std::string resolve_errors_;
    std::chrono::milliseconds timeout_{0};
};

} // namespace
} // namespace detail

void connection::async_connect_erased(impl_ptr impl, const connect_params& params, diagnostics* diag,
                                      handler<void(error_code)> h) {
    detail::run<void(error_code)>(std::move(impl), detail::connect_machine(params, diag), std::move(h));
}

} // namespace asiopg

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

std::string describe(const target& t) {
    std::string where = t.host.empty() ? "the default socket" : "\"" + t.host + "\"";
    if (!t.hostaddr.empty() && t.hostaddr != t.host) where += " (" + t.hostaddr + ")";
    if (!t.port.empty()) where += ", port " + t.port;
    return "connection to server at " + where;
}

// Connects to one address at a time, in libpq's order: each attempt is a PQconnectStartParams for
// a single host, so libpq's per-host `connect_timeout` means what it means in libpq (give up on
// this address, try the next), and each host name is resolved just before its turn.
// `target_session_attrs` is checked by libpq on each attempt; `prefer-standby` takes two passes
// (a standby first, then any server), as libpq does.
class connect_machine : public machine_base {
public:
    static constexpr socket_use sockets = socket_use::per_wait;
    using clock = std::chrono::steady_clock;

    connect_machine(const connect_params& p, diagnostics* diag_out)
        : machine_base(diag_out), params_(&p) {}

    step start(connection_impl& impl) {
        step rejected;
        if (!begin(impl, rejected)) return rejected;
        if (params_->log.sink) impl.log = params_->log;
        if (params_->statement_cache) impl.statements.capacity = *params_->statement_cache; // (emptied by close())
        if (impl.connected() && impl.logs(log_level::info))
            impl.note(log_level::info, "connection",
                      "reconnecting: the session of backend pid " + std::to_string(PQbackendPID(impl.pg)) +
                          " is closed first");
        impl.close();          // connecting again replaces the old session
        impl.active_op = id_;  // close() forgets the active op: this one still is
        impl.password.clear();
        if (auto failed = build_keywords(impl)) return *failed;
        if (total_timeout_ > std::chrono::milliseconds::zero())
            total_deadline_ = clock::now() + total_timeout_;
        return next_attempt(impl);
    }

    const std::string& resolve_host() const { return pending_[next_host_ - 1].host; }

    step resume(connection_impl& impl, error_code ec) {
        if (resolving_) {
            resolving_ = false;
            if (impl.resolve_ready) return on_resolved(impl); // the answer came first
            return give_up(impl, ec ? ec : error_code(asio::error::operation_aborted));
        }
        if (ec == client_errc::timeout && clock::now() < total_deadline_) {
            ++timeouts_;
            return attempt_failed(impl, describe(current_) + " failed: timeout expired after " +
                                            std::to_string(per_host_timeout_.count()) + " ms");
        }
        if (ec) return give_up(impl, ec);
        return poll(impl, PQconnectPoll(impl.pg));
    }

    template <class Self>
    void complete(Self& self, error_code ec) {
        self.complete(ec);
    }

private:
    // The libpq keyword list, the deadlines and the hosts to try; a finished step on error.
    std::optional<step> build_keywords(connection_impl& impl) {
        const connect_params& p = *params_;
        if (!p.conninfo.empty()) {
            char* err = nullptr;
            PQconninfoOption* opts = PQconninfoParse(std::string(p.conninfo).c_str(), &err);
            if (!opts) {
                std::string msg = err ? err : "out of memory parsing the connection string";
                if (err) PQfreemem(err);
                while (!msg.empty() && msg.back() == '\n') msg.pop_back();
                // The parser quotes its input: remove any password, however short.
                msg = redact(std::move(msg), guess_password(p.conninfo), true);
                return failed(impl, client_errc::invalid_conninfo, redact(std::move(msg), p.password, true));
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

        // Deadlines of our own: libpq's connect_timeout only works for blocking connects.
        // libpq's keyword (or PGCONNECT_TIMEOUT) bounds each attempt; connect_params'
        // connect_timeout bounds the whole connect; with neither, the whole connect gets 30 s.
        using namespace std::chrono;
        std::string t;
        for (const auto& [k, v] : keywords_)
            if (k == "connect_timeout") t = v;
        if (t.empty()) t = env("PGCONNECT_TIMEOUT");
        if (!t.empty()) {
            int secs = 0;
            auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), secs);
            if (ec == std::errc() && secs > 0) per_host_timeout_ = seconds(std::max(secs, 2)); // libpq: at least 2 s
        }
        total_timeout_ = p.connect_timeout;
        if (total_timeout_ == milliseconds::zero() && per_host_timeout_ == milliseconds::zero())
            total_timeout_ = seconds(30);

        // Hosts: resolved here, one at a time, and given to libpq as `hostaddr` (with `host`
        // kept for TLS verification and .pgpass), so libpq never blocks on DNS.
        std::string host = take_keyword(keywords_, "host");
        std::string hostaddr = take_keyword(keywords_, "hostaddr");
        std::string port = take_keyword(keywords_, "port");
        // libpq's precedence: a service file's settings come before the environment's.
        bool service = std::any_of(keywords_.begin(), keywords_.end(),
                                   [](const auto& kv) { return kv.first == "service"; }) ||
                       !env("PGSERVICE").empty();
        if (host.empty() && hostaddr.empty() && !service) {
            host = env("PGHOST");
            hostaddr = env("PGHOSTADDR");
        }
        if (port.empty() && !service) port = env("PGPORT");
        auto hosts = split_list(host), addrs = split_list(hostaddr), ports = split_list(port);
        std::size_t n = std::max<std::size_t>({hosts.size(), addrs.size(), 1});
        if ((!hosts.empty() && hosts.size() != n) || (!addrs.empty() && addrs.size() != n))
            return failed(impl, client_errc::invalid_conninfo,
                          "could not match " + std::to_string(hosts.size()) + " host names to " +
                              std::to_string(addrs.size()) + " hostaddr values");
        if (ports.size() > 1 && ports.size() != n)
            return failed(impl, client_errc::invalid_conninfo,
                          "could not match " + std::to_string(ports.size()) + " port numbers to " +
                              std::to_string(n) + " hosts");
        for (std::size_t i = 0; i < n; ++i) {
            target t;
            if (!hosts.empty()) t.host = hosts[i];
            if (!addrs.empty()) t.hostaddr = addrs[i];
            if (!ports.empty()) t.port = ports.size() == 1 ? ports[0] : ports[i];
            pending_.push_back(std::move(t));
        }
        std::string attrs = take_keyword(keywords_, "target_session_attrs");
        if (attrs == "prefer-standby") {
            prefer_standby_ = true;
            attrs = "standby"; // first pass
        }
        if (!attrs.empty()) keywords_.emplace_back("target_session_attrs", attrs);
        return std::nullopt;
    }

    // The next address to try: resolves the next host name when its turn comes.
    step next_attempt(connection_impl& impl) {
        for (;;) {
            if (next_address_ < addresses_.size()) return start_attempt(impl, addresses_[next_address_++]);
            if (next_host_ < pending_.size()) {
                const target& t = pending_[next_host_++];
                addresses_.clear();
                next_address_ = 0;
                if (t.needs_resolution()) {
                    resolving_ = true;
                    restart_deadline(impl, false);
                    return {wait_for::resolve, {}};
                }
                add_address(t);
                continue;
            }
            if (prefer_standby_ && !second_pass_) { // no standby found: any server will do
                second_pass_ = true;
                set_keyword(keywords_, "target_session_attrs", "any");
                addresses_ = tried_;
                next_address_ = 0;
                continue;
            }
            std::string msg = std::move(errors_);
            while (!msg.empty() && msg.back() == '\n') msg.pop_back();
            if (msg.empty()) msg = "no host to connect to";
            // Every address timed out: that is the error, as with a single host.
            bool all_timed_out = timeouts_ > 0 && timeouts_ == attempts_;
            return failed(impl, all_timed_out ? client_errc::timeout : client_errc::connect_failed,
                          std::move(msg));
        }
    }

    void add_address(const target& t) {
        addresses_.push_back(t);
        if (!second_pass_) tried_.push_back(t);
    }

    step on_resolved(connection_impl& impl) {
        const target& t = pending_[next_host_ - 1];
        if (impl.resolve_ec) {
            errors_ += "could not translate host name \"" + t.host + "\" to address: " +
                       impl.resolve_ec.message() + "\n";
        } else {
            std::set<std::string> seen;
            for (const auto& entry : impl.resolve_results) {
                std::string addr = entry.endpoint().address().to_string();
                if (seen.insert(addr).second) add_address({t.host, addr, t.port});
            }
        }
        impl.resolve_results = {};
        return next_attempt(impl);
    }

    // The deadline of what comes next: the whole connect's, or this attempt's if sooner.
    void restart_deadline(connection_impl& impl, bool attempt) {
        clock::time_point at = total_deadline_;
        if (attempt && per_host_timeout_ > std::chrono::milliseconds::zero())
            at = std::min(at, clock::now() + per_host_timeout_);
        if (at != clock::time_point::max()) impl.start_deadline(id_, at);
        else impl.deadline_timer.cancel();
    }

    step start_attempt(connection_impl& impl, const target& t) {
        current_ = t;
        ++attempts_;
        if (impl.logs(log_level::debug))
            impl.note(log_level::debug, "connection", describe(t) + database_and_user() + ": connecting");
        std::vector<const char*> keys, values;
        for (const auto& [k, v] : keywords_) {
            keys.push_back(k.c_str());
            values.push_back(v.c_str());
        }
        auto add = [&](const char* k, const std::string& v) {
            if (v.empty()) return;
            keys.push_back(k);
            values.push_back(v.c_str());
        };
        add("host", t.host);
        add("hostaddr", t.hostaddr);
        add("port", t.port);
        keys.push_back(nullptr);
        values.push_back(nullptr);
        impl.pg = PQconnectStartParams(keys.data(), values.data(), 0);
        if (!impl.pg) return fail(impl, client_errc::connect_failed, "out of memory starting a connection");
        if (PQstatus(impl.pg) == CONNECTION_BAD) return attempt_failed(impl, impl.libpq_message());
        install_notice_receiver(impl);
        restart_deadline(impl, true);
        // libpq: start as if PQconnectPoll had returned PGRES_POLLING_WRITING.
        return step::write();
    }

    step poll(connection_impl& impl, PostgresPollingStatusType st) {
        switch (st) {
        case PGRES_POLLING_OK:
            if (PQsetnonblocking(impl.pg, 1) != 0) return attempt_failed(impl, impl.libpq_message());
            if (error_code ec = impl.assign_socket()) return give_up(impl, ec); // stable from now on
            impl.deadline_timer.cancel();
            impl.last_diagnostics.clear();
            impl.session = new_session_id(); // statements of the previous session are gone
            {
                std::lock_guard<std::mutex> lk(impl.socket_mutex);
                impl.live_fd = PQsocket(impl.pg);
            }
            impl.transaction_abandoned = false;
            impl.session_changed = false;
            impl.lost_while_idle = false;
            impl.statements.clear();
            if (impl.logs(log_level::info)) {
                const int v = PQserverVersion(impl.pg);
                impl.note(log_level::info, "connection",
                          describe(current_) + " (database \"" + PQdb(impl.pg) + "\", user \"" + PQuser(impl.pg) +
                              "\"): connected; server " + std::to_string(v / 10000) + "." + std::to_string(v % 10000) +
                              ", backend pid " + std::to_string(PQbackendPID(impl.pg)) +
                              (PQsslInUse(impl.pg) ? ", TLS" : ", no TLS"));
            }
            return step::finish();
        case PGRES_POLLING_READING: return step::read();
        case PGRES_POLLING_WRITING: return step::write();
        default: return attempt_failed(impl, impl.libpq_message());
        }
    }

    // This address failed: note why and move on.
    step attempt_failed(connection_impl& impl, std::string why) {
        if (impl.logs(log_level::debug)) impl.note(log_level::debug, "connection", why);
        errors_ += why + "\n";
        impl.drop_session();
        return next_attempt(impl);
    }

    // The whole connect ends: deadline, cancellation or a socket error.
    step give_up(connection_impl& impl, error_code ec) {
        std::string so_far = impl.pg ? impl.libpq_message() : std::string();
        impl.drop_session();
        std::string msg;
        if (ec == client_errc::timeout)
            msg = "timeout expired after " + std::to_string(total_timeout_.count()) + " ms while connecting";
        else if (ec == asio::error::operation_aborted)
            msg = "connect cancelled";
        else
            msg = "connect failed: " + ec.message();
        if (!so_far.empty()) errors_ += so_far + "\n";
        while (!errors_.empty() && errors_.back() == '\n') errors_.pop_back();
        if (!errors_.empty()) msg += " (" + errors_ + ")";
        return failed(impl, ec, std::move(msg));
    }

    // The whole connect failed: reported to the caller and the logger.
    step failed(connection_impl& impl, error_code ec, std::string message) {
        return noted(impl, log_level::warning, ec, std::move(message), "connect failed: ");
    }

    // " (database "d", user "u")" as the keywords say, for the log (never the password).
    std::string database_and_user() const {
        std::string db, user;
        for (const auto& [k, v] : keywords_) {
            if (k == "dbname") db = v;
            if (k == "user") user = v;
        }
        if (db.empty()) db = env("PGDATABASE");
        if (user.empty()) user = env("PGUSER");
        std::string out;
        if (!db.empty()) out += "database \"" + db + "\"";
        if (!user.empty()) out += (out.empty() ? "" : ", ") + std::string("user \"") + user + "\"";
        return out.empty() ? out : " (" + out + ")";
    }

    const connect_params* params_; // valid during start() only
    keyword_list keywords_;
    std::vector<target> pending_;   // hosts as written
    std::size_t next_host_ = 0;
    std::vector<target> addresses_; // the current host's addresses
    std::size_t next_address_ = 0;
    std::vector<target> tried_;     // every address of the first pass (prefer-standby)
    target current_;
    bool resolving_ = false;
    bool prefer_standby_ = false;
    bool second_pass_ = false;
    std::string errors_;            // one line per failed attempt, as libpq words it
    int attempts_ = 0;
    int timeouts_ = 0;              // attempts ended by the per-host timeout
    std::chrono::milliseconds per_host_timeout_{0};
    std::chrono::milliseconds total_timeout_{0};
    clock::time_point total_deadline_ = clock::time_point::max();
};

} // namespace
} // namespace detail

void connection::async_connect_erased(impl_ptr impl, const connect_params& params, diagnostics* diag,
                                      handler<void(error_code)> h) {
    detail::run<void(error_code)>(std::move(impl), detail::connect_machine(params, diag), std::move(h));
}

} // namespace asiopg

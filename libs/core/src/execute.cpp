// async_execute and async_prepare: send, flush, read every result — in stages for prepared statements.
#include "command_machine.hpp"

namespace asiopg {
namespace detail {
namespace {

class execute_machine : public command_machine {
public:
    using command_machine::command_machine;
    template <class Self>
    void complete(Self& self, error_code ec) {
        if (ec) self.complete(ec, result{});
        else self.complete(ec, std::move(result_));
    }
};

// An empty query: the cheapest round trip libpq can make (PGRES_EMPTY_QUERY).
class ping_machine : public command_machine {
public:
    explicit ping_machine(diagnostics* diag_out) : command_machine(kind::simple, "", {}, nullptr, diag_out, nullptr) {}
    template <class Self>
    void complete(Self& self, error_code ec) { self.complete(ec); }
};

class prepare_machine : public command_machine {
public:
    prepare_machine(std::string_view sql, diagnostics* diag_out)
        : command_machine(kind::prepare, sql, {}, nullptr, diag_out, nullptr) {}
    template <class Self>
    void complete(Self& self, error_code ec) {
        if (ec || !described_) return self.complete(ec ? ec : error_code(client_errc::unexpected_result), statement{});
        described_->session = session_;
        self.complete(ec, statement(std::move(described_)));
    }
    step start(connection_impl& impl) {
        session_ = impl.session;
        return command_machine::start(impl);
    }

private:
    std::uint64_t session_ = 0;
};

} // namespace
} // namespace detail

detail::connection_impl::cached_statement&
detail::connection_impl::statement_cache::touch(std::string_view sql, std::span<const Oid> param_types) {
    // The key is built in a buffer kept across calls: a lookup that hits allocates nothing.
    std::string& key = lookup_key;
    key.assign(sql);
    key.push_back('\0');
    key.append(reinterpret_cast<const char*>(param_types.data()), param_types.size() * sizeof(Oid));
    auto it = index.find(key);
    if (it == index.end()) {
        lru.push_front({key, {}, 0, {}, false});
        index.emplace(lru.front().key, lru.begin());
        evict_beyond(capacity);
    } else {
        lru.splice(lru.begin(), lru, it->second);
    }
    cached_statement& entry = lru.front();
    ++entry.uses;
    return entry;
}

void detail::connection_impl::statement_cache::evict_beyond(std::size_t n) {
    while (lru.size() > n) {
        auto& victim = lru.back();
        if (!victim.name.empty()) to_deallocate.push_back(victim.name);
        index.erase(victim.key);
        lru.pop_back();
    }
}

void connection::async_execute_erased(impl_ptr impl, std::string_view sql,
                                      std::span<const param_ref> params, bool extended,
                                      diagnostics* diag, const error_with_diagnostics* refused,
                                      handler<void(error_code, result)> h) {
    using detail::command_machine;
    detail::run<void(error_code, result)>(
        std::move(impl),
        std::make_unique<detail::execute_machine>(
            extended ? command_machine::kind::extended : command_machine::kind::simple, sql, params, nullptr, diag,
            refused),
        std::move(h));
}

void connection::async_execute_statement_erased(impl_ptr impl, const statement& st,
                                                std::span<const param_ref> params, diagnostics* diag,
                                                const error_with_diagnostics* refused,
                                                handler<void(error_code, result)> h) {
    detail::run<void(error_code, result)>(
        std::move(impl),
        std::make_unique<detail::execute_machine>(detail::command_machine::kind::statement, st.sql(), params, &st,
                                                  diag, refused),
        std::move(h));
}

void connection::async_ping_erased(impl_ptr impl, diagnostics* diag, handler<void(error_code)> h) {
    detail::run<void(error_code)>(std::move(impl), detail::ping_machine(diag), std::move(h));
}

void connection::async_prepare_erased(impl_ptr impl, std::string_view sql, diagnostics* diag,
                                      handler<void(error_code, statement)> h) {
    detail::run<void(error_code, statement)>(std::move(impl), detail::prepare_machine(sql, diag), std::move(h));
}

void connection::set_statement_cache(std::size_t capacity, unsigned prepare_threshold) {
    auto& cache = state()->statements;
    cache.capacity = capacity;
    cache.prepare_threshold = prepare_threshold == 0 ? 1 : prepare_threshold;
    cache.evict_beyond(cache.capacity);
}

} // namespace asiopg

#ifndef ASIOPG_PARAM_BUFFER_HPP
#define ASIOPG_PARAM_BUFFER_HPP

#include <asiopg/params.hpp>

#include <boost/container/small_vector.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <type_traits>

namespace asiopg {

/// Parameters for `$1 … $n` that own their bytes: each value is encoded and copied when added,
/// so the buffer may outlive the values and be built at run time (a statement assembled from
/// user choices, an operation that starts later — the pool's `async_execute` keeps one).
/// Pass it where a `params(…)` list goes. A value that cannot be encoded makes `push_back`
/// throw `error_with_diagnostics` (`client_errc::invalid_parameter`).
class param_buffer {
public:
    param_buffer() = default;
    // The views refs() made point into the source's bytes: a copy or a move makes its own.
    param_buffer(const param_buffer& other) : bytes_(other.bytes_), entries_(other.entries_) {}
    param_buffer(param_buffer&& other) noexcept
        : bytes_(std::move(other.bytes_)), entries_(std::move(other.entries_)) {
        other.clear();
    }
    param_buffer& operator=(const param_buffer& other) {
        if (this != &other) {
            bytes_ = other.bytes_;
            entries_ = other.entries_;
            refs_.clear();
        }
        return *this;
    }
    param_buffer& operator=(param_buffer&& other) noexcept {
        if (this != &other) {
            bytes_ = std::move(other.bytes_);
            entries_ = std::move(other.entries_);
            refs_.clear();
            other.clear();
        }
        return *this;
    }

    /// Encodes every value of `ps` (see `params()`).
    template <class... Ts>
    explicit param_buffer(const param_list<Ts...>& ps) {
        std::array<param_ref, sizeof...(Ts)> refs;
        std::array<param_scratch, sizeof...(Ts)> scratch;
        ps.encode(refs, scratch);
        for (const param_ref& r : refs) add(r);
    }

    /// Appends `value` as the next parameter.
    template <class T>
    param_buffer& push_back(const T& value) {
        param_scratch scratch;
        add(param_traits<std::remove_cvref_t<T>>::encode(value, scratch));
        return *this;
    }

    /// Appends an already encoded parameter, copying its bytes.
    void add(const param_ref& r) {
        entries_.push_back({bytes_.size(), r.data ? r.length : -1, r.format, r.type});
        if (r.data) bytes_.append(r.data, static_cast<std::size_t>(r.length));
        refs_.clear();
    }

    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }
    void clear() noexcept {
        entries_.clear();
        bytes_.clear();
        refs_.clear();
    }

    /// Views of the parameters, valid until the buffer is next modified, moved or destroyed.
    std::span<const param_ref> refs() const {
        if (refs_.size() != entries_.size()) {
            refs_.clear();
            refs_.reserve(entries_.size());
            for (const entry& e : entries_)
                refs_.push_back({e.length < 0 ? nullptr : bytes_.data() + e.offset, e.length < 0 ? 0 : e.length,
                                 e.format, e.type});
        }
        return {refs_.data(), refs_.size()};
    }

private:
    struct entry {
        std::size_t offset;
        int length; // -1: NULL
        data_format format;
        oid type;
    };
    // Room for a few parameters in place: a short statement's buffer allocates nothing.
    static constexpr std::size_t in_place = 4;
    std::string bytes_;
    boost::container::small_vector<entry, in_place> entries_;
    mutable boost::container::small_vector<param_ref, in_place> refs_;
};

namespace detail {
// A param_buffer goes wherever a param_list goes (and is never taken for a completion token).
template <> struct is_param_list<param_buffer> : std::true_type {};
} // namespace detail

} // namespace asiopg

#endif

#ifndef ASIOPG_ROW_BATCH_HPP
#define ASIOPG_ROW_BATCH_HPP

#include <asiopg/result.hpp>

#include <cstddef>
#include <iterator>
#include <vector>

namespace asiopg {

/// Rows of a streamed query, filled by `connection::async_read_rows` a batch at a time, so a
/// result of any size is read in bounded memory (libpq's single-row mode).
///
/// \par Object lifetimes
/// Each read replaces the previous batch: views from it (`row_view`, `field_view`, string
/// views) die with the next read or the batch. Move-only.
class row_batch {
public:
    class iterator {
    public:
        using iterator_category = std::random_access_iterator_tag;
        using value_type = row_view;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = row_view;
        iterator() = default;
        iterator(const row_batch* b, std::size_t i) noexcept : b_(b), i_(i) {}
        row_view operator*() const noexcept { return (*b_)[i_]; }
        iterator& operator++() noexcept { ++i_; return *this; }
        iterator operator++(int) noexcept { auto t = *this; ++i_; return t; }
        friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.i_ == b.i_; }
        friend difference_type operator-(const iterator& a, const iterator& b) noexcept {
            return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
        }
    private:
        const row_batch* b_ = nullptr;
        std::size_t i_ = 0;
    };

    row_batch() = default;
    row_batch(row_batch&& other) noexcept;
    row_batch& operator=(row_batch&& other) noexcept;
    row_batch(const row_batch&) = delete;
    row_batch& operator=(const row_batch&) = delete;
    ~row_batch();

    std::size_t size() const noexcept { return rows_.size(); }
    bool empty() const noexcept { return rows_.empty(); }
    /// Row `i` (precondition `i < size()`).
    row_view operator[](std::size_t i) const noexcept { return row_view(rows_[i], 0); }
    iterator begin() const noexcept { return {this, 0}; }
    iterator end() const noexcept { return {this, rows_.size()}; }
    /// The columns (names, types): those of the stream's result.
    result_view columns() const noexcept { return result_view(rows_.empty() ? nullptr : rows_.front()); }

    /// Every row of the batch as a Describe struct or tuple (see `result_view::rows`).
    template <class T>
        requires detail::is_row_type_v<T>
    std::vector<T> rows() const {
        std::vector<T> out;
        out.reserve(size());
        for (row_view r : *this) out.push_back(r.as<T>());
        return out;
    }

    /// Frees the rows (the library calls it before each read).
    void clear() noexcept;

private:
    friend struct detail::result_access;
    std::vector<pg_result*> rows_; // one single-row PGresult per row
};

} // namespace asiopg

#endif

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
    using iterator = detail::index_iterator<const row_batch*, row_view>;

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

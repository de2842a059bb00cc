// compile(): a statement's text, built once per shape and cached; its parameters, every time.
#include <asiopg/sql/statement.hpp>

#include "writer.hpp"

#include <mutex>
#include <unordered_map>

namespace asiopg::sql {
namespace {

// Shape key -> text. Bounded: when full it starts again (shapes are few in a real program; a
// program building endless distinct shapes must not grow it without end).
class text_cache {
public:
    std::shared_ptr<const std::string> find(const std::string& key) {
        std::lock_guard lk(mtx_);
        auto it = map_.find(key);
        return it == map_.end() ? nullptr : it->second;
    }
    void insert(const std::string& key, std::shared_ptr<const std::string> text) {
        std::lock_guard lk(mtx_);
        if (map_.size() >= capacity) map_.clear();
        map_.emplace(key, std::move(text));
    }
    std::size_t size() {
        std::lock_guard lk(mtx_);
        return map_.size();
    }

private:
    static constexpr std::size_t capacity = 4096;
    std::mutex mtx_;
    std::unordered_map<std::string, std::shared_ptr<const std::string>> map_;
};

text_cache& cache() {
    static text_cache c;
    return c;
}

} // namespace

compiled_statement compile(const statement& s) {
    detail::writer shape(false);
    s.write(shape);
    std::shared_ptr<const std::string> text = cache().find(shape.key());
    if (!text) {
        detail::writer full(true);
        s.write(full);
        text = std::make_shared<const std::string>(full.take_text());
        cache().insert(shape.key(), text);
    }
    return {std::move(text), shape.take_params()};
}

std::size_t compiled_cache_size() noexcept {
    try {
        return cache().size();
    } catch (...) {
        return 0;
    }
}

} // namespace asiopg::sql

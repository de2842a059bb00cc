// Statements reported to the connection's logger: echo, slow statements, failures.
#include "statement_log.hpp"

#include <asiopg/result_traits.hpp>

#include <cstdio>

namespace asiopg::detail {

namespace {

constexpr std::size_t max_sql = 2000;  // longer SQL is cut in the log
constexpr std::size_t max_value = 200; // so is a long parameter value

void append_cut(std::string& out, std::string_view text, std::size_t max) {
    if (text.size() <= max) {
        out.append(text);
        return;
    }
    out.append(text.substr(0, max));
    out += "…(" + std::to_string(text.size()) + " bytes)";
}

void append_value(std::string& out, const param_ref& p) {
    if (!p.data) {
        out += "NULL";
        return;
    }
    std::string text;
    if (p.format == data_format::binary) {
        try {
            decode_text({{p.data, static_cast<std::size_t>(p.length)}, data_format::binary, p.type}, text);
        } catch (...) {
            out += "(" + std::to_string(p.length) + " binary bytes)";
            return;
        }
    } else {
        text.assign(p.data, static_cast<std::size_t>(p.length));
    }
    std::string quoted;
    for (char c : text.size() > max_value ? std::string_view(text).substr(0, max_value) : std::string_view(text)) {
        if (c == '\'') quoted += '\'';
        quoted += c;
    }
    out += '\'' + quoted + '\'';
    if (text.size() > max_value) out += "…(" + std::to_string(text.size()) + " bytes)";
}

std::string milliseconds(std::chrono::steady_clock::duration d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f ms", std::chrono::duration<double, std::milli>(d).count());
    return buf;
}

} // namespace

void statement_log::start(const connection_impl& impl, std::string_view what, std::string_view sql,
                          std::span<const param_ref> params) {
    const logger& log = impl.log;
    if (!log.sink || (!log.echo && log.slow_statement <= std::chrono::milliseconds::zero())) return;
    if (!log.enabled(log_level::warning)) return; // neither echo (info) nor slow (warning) would show
    started_ = std::chrono::steady_clock::now();
    what_.assign(what);
    text_.clear();
    append_cut(text_, sql, max_sql);
    if (log.parameters && !params.empty()) {
        text_ += " [";
        for (std::size_t i = 0; i < params.size(); ++i) {
            if (i) text_ += ", ";
            text_ += "$" + std::to_string(i + 1) + "=";
            append_value(text_, params[i]);
        }
        text_ += "]";
    }
}

void statement_log::finish(const connection_impl& impl, error_code ec) {
    if (!started_) return;
    const auto took = std::chrono::steady_clock::now() - *started_;
    started_.reset();
    const logger& log = impl.log;
    if (ec) {
        if (!log.echo) return;
        const diagnostics& d = impl.last_diagnostics;
        std::string why = d.sqlstate.empty() ? ec.message() : d.sqlstate;
        if (!d.message.empty()) why += ": " + d.message;
        impl.note(log_level::warning, "statement", what_ + " failed after " + milliseconds(took) + " (" + why + ")" + tail());
        return;
    }
    if (log.slow_statement > std::chrono::milliseconds::zero() && took >= log.slow_statement) {
        impl.note(log_level::warning, "statement",
                  "slow " + what_ + ": " + milliseconds(took) + " (threshold " +
                      std::to_string(log.slow_statement.count()) + " ms)" + tail());
        return;
    }
    if (log.echo) impl.note(log_level::info, "statement", what_ + " " + milliseconds(took) + tail());
}

} // namespace asiopg::detail

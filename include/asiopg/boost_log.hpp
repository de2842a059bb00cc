#ifndef ASIOPG_BOOST_LOG_HPP
#define ASIOPG_BOOST_LOG_HPP

// asiopg's records into Boost.Log. Header-only, so that asiopg's libraries do not depend on
// Boost.Log: a program including this header links Boost.Log itself (b2: /asiopg//boost_log;
// CMake: Boost::log; define BOOST_LOG_DYN_LINK with the shared library).

#include <asiopg/logger.hpp>

#include <boost/log/attributes/constant.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_channel_logger.hpp>
#include <boost/log/trivial.hpp>

#include <memory>
#include <string>

namespace asiopg {

/// Boost.Log's trivial severity for an asiopg level (trace … error).
inline boost::log::trivial::severity_level to_boost_log_severity(log_level l) noexcept {
    namespace trivial = boost::log::trivial;
    switch (l) {
    case log_level::trace: return trivial::trace;
    case log_level::debug: return trivial::debug;
    case log_level::info: return trivial::info;
    case log_level::warning: return trivial::warning;
    case log_level::error:
    case log_level::off: break;
    }
    return trivial::error;
}

/// A logger whose records go to Boost.Log's core, through the application's sinks and filters:
/// attribute "Channel" = `channel` ("asiopg" by default, a std::string), "Severity" =
/// `boost::log::trivial::severity_level` (so `boost::log::trivial::severity` filters them),
/// and "Category" = the record's category ("connection", "statement", "pool"). The message is
/// the record's text. Records below `level` are not even formatted. Thread-safe.
inline logger boost_log_logger(log_level level = log_level::info, std::string channel = "asiopg") {
    using source = boost::log::sources::severity_channel_logger_mt<boost::log::trivial::severity_level, std::string>;
    auto src = std::make_shared<source>(boost::log::keywords::channel = std::move(channel));
    logger l;
    l.level = level;
    l.sink = [src](const log_record& r) {
        boost::log::record rec =
            src->open_record((boost::log::keywords::severity = to_boost_log_severity(r.level)));
        if (!rec) return; // filtered out by the application
        rec.attribute_values().insert("Category", boost::log::attributes::make_attribute_value(std::string(r.category)));
        boost::log::record_ostream out(rec);
        out << r.message;
        out.flush();
        src->push_record(std::move(rec));
    };
    return l;
}

} // namespace asiopg

#endif

#ifndef ASIOPG_NOTIFICATION_HPP
#define ASIOPG_NOTIFICATION_HPP

#include <string>

namespace asiopg {

/// A NOTIFY received on a channel this session LISTENs to (`connection::async_receive_notification`).
struct notification {
    std::string channel;
    std::string payload;
    int backend_pid = 0; ///< the server process of the session that sent it
};

} // namespace asiopg

#endif

// Cancel requests on threads of their own, and the registry that silences them at shutdown.
#include "cancel_request.hpp"

#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>

#include <atomic>
#include <thread>
#include <vector>

namespace asiopg::detail {

namespace asio = boost::asio;

namespace {

// One per execution context: every way back opened to it. Services are shut down first when
// an io_context is destroyed, so after shutdown() no cancel thread posts into the context.
class cancel_registry : public asio::execution_context::service {
public:
    using key_type = cancel_registry;
    static inline asio::execution_context::id id;

    explicit cancel_registry(asio::execution_context& ctx) : service(ctx) {}

    void add(const std::shared_ptr<cancel_return>& back) {
        std::lock_guard<std::mutex> lk(mtx_);
        if (shut_) { // a connection used after its context shut down: no way back at all
            close_cancel_return(*back);
            return;
        }
        // Drop the ways back of connections gone since; amortised by doubling the threshold.
        if (backs_.size() >= prune_at_) {
            std::erase_if(backs_, [](const auto& w) { return w.expired(); });
            prune_at_ = std::max<std::size_t>(64, backs_.size() * 2);
        }
        backs_.push_back(back);
    }

private:
    void shutdown() override {
        std::lock_guard<std::mutex> lk(mtx_);
        shut_ = true;
        for (auto& w : backs_)
            if (auto back = w.lock()) close_cancel_return(*back);
        backs_.clear();
    }

    std::mutex mtx_;
    bool shut_ = false;
    std::size_t prune_at_ = 64;
    std::vector<std::weak_ptr<cancel_return>> backs_;
};

// Requests out at once, process-wide. Past it, a cancel is given up on (the caller falls
// back to closing the connection).
std::atomic<int> cancels_in_flight{0};
constexpr int max_cancels_in_flight = 32;

} // namespace

std::shared_ptr<cancel_return> open_cancel_return(const asio::any_io_executor& ex) {
    auto back = std::make_shared<cancel_return>();
    asio::use_service<cancel_registry>(asio::query(ex, asio::execution::context)).add(back);
    return back;
}

void close_cancel_return(cancel_return& back) noexcept {
    std::lock_guard<std::mutex> lk(back.mtx);
    back.closed = true;
    back.executor.reset();
}

bool send_cancel_request(PGcancel* request, std::shared_ptr<cancel_return> back,
                         const asio::any_completion_executor& reply_to, std::function<void()> done) {
    if (cancels_in_flight.fetch_add(1) >= max_cancels_in_flight) {
        cancels_in_flight.fetch_sub(1);
        PQfreeCancel(request);
        return false;
    }
    {
        std::lock_guard<std::mutex> lk(back->mtx);
        if (back->closed) {
            cancels_in_flight.fetch_sub(1);
            PQfreeCancel(request);
            return false;
        }
        back->executor.emplace(asio::prefer(reply_to, asio::execution::outstanding_work.untracked));
    }
    try {
        std::thread([request, back = std::move(back), done = std::move(done)]() mutable {
            char error[256];
            PQcancel(request, error, sizeof error); // failure: the command runs on, until its deadline
            PQfreeCancel(request);
            cancels_in_flight.fetch_sub(1);
            std::lock_guard<std::mutex> lk(back->mtx);
            // (execute, not post: a completion executor cannot promise never to block — and
            // from this thread, which runs no context, nothing is run inline anyway.)
            if (back->executor) back->executor->execute(std::move(done));
            // else `done` dies here, on this thread: it must hold nothing of the context's.
        }).detach();
    } catch (...) { // no thread
        PQfreeCancel(request);
        cancels_in_flight.fetch_sub(1);
        return false;
    }
    return true;
}

} // namespace asiopg::detail

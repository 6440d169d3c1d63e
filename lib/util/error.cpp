#include "util/error.hpp"

namespace lem {

const char* status_name(Status s) noexcept {
  switch (s) {
    case Status::Ok: return "ok";
    case Status::InvalidArg: return "invalid argument";
    case Status::Io: return "I/O error";
    case Status::BadFormat: return "bad file format";
    case Status::Unsupported: return "unsupported";
    case Status::OutOfMemory: return "out of memory";
    case Status::ContextFull: return "context full";
    case Status::Cancelled: return "cancelled";
    case Status::Internal: return "internal error";
    case Status::BufferTooSmall: return "buffer too small";
    case Status::Numeric: return "non-finite numbers";
  }
  return "unknown status";
}

}  // namespace lem

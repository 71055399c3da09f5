#include "dns/wire_error.hpp"

namespace tern::dns {

std::string_view to_string(WireError e) {
  switch (e) {
    case WireError::Truncated: return "truncated";
    case WireError::LabelTooLong: return "label longer than 63 octets";
    case WireError::NameTooLong: return "name longer than 255 octets";
    case WireError::BadLabelType: return "reserved label type";
    case WireError::PointerNotBackward: return "compression pointer does not point backwards";
    case WireError::TooManyPointers: return "too many compression pointers";
    case WireError::RdataLengthMismatch: return "RDATA length does not match its type";
    case WireError::CountExceedsPacket: return "section count exceeds the packet";
    case WireError::TrailingData: return "trailing data after the last record";
    case WireError::OptNotInAdditional: return "OPT record outside the additional section";
    case WireError::DuplicateOpt: return "more than one OPT record";
    case WireError::OptNameNotRoot: return "OPT owner name is not the root";
    case WireError::BadEdnsOption: return "EDNS option runs past the OPT RDATA";
    case WireError::BadText: return "text form does not parse";
    case WireError::BufferTooSmall: return "output buffer too small";
    case WireError::BadTypeBitmap: return "malformed type bitmap";
    case WireError::BadSvcParam: return "malformed or misordered SvcParam";
    case WireError::BadRdataField: return "RDATA field value not allowed by its type";
  }
  return "unknown wire error";
}

}  // namespace tern::dns

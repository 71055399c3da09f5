// WireError: why a sequence of bytes is not a DNS message we accept. Each case names the
// defect or the attack it stands for, so logs and tests say what was wrong, not just "bad".
#pragma once

#include <cstdint>
#include <string_view>

namespace tern::dns {

enum class WireError : uint8_t {
  Truncated,             // a field runs past the end of the data
  LabelTooLong,          // a label over 63 octets (RFC 1035 §2.3.4)
  NameTooLong,           // a name over 255 octets in wire form
  BadLabelType,          // label type 0b01 or 0b10 (RFC 6891 §5 / obsolete RFC 2673)
  PointerNotBackward,    // a compression pointer to itself or forward
  TooManyPointers,       // compression hop cap exceeded (loop or abuse)
  RdataLengthMismatch,   // RDATA shorter or longer than its type's fields need
  CountExceedsPacket,    // a section count larger than the bytes that follow
  TrailingData,          // bytes after the last record
  OptNotInAdditional,    // OPT in answer/authority (RFC 6891 §6.1.1)
  DuplicateOpt,          // more than one OPT (RFC 6891 §6.1.1: FORMERR)
  OptNameNotRoot,        // OPT owner must be the root (RFC 6891 §6.1.2)
  BadEdnsOption,         // an EDNS option's length runs past the OPT RDATA
  BadText,               // text form that does not parse (test fixtures, config)
  BufferTooSmall,        // the output buffer cannot hold even the header and question
  BadTypeBitmap,         // NSEC/NSEC3 type bitmap: window order, length 1..32, trailing zeros
  BadSvcParam,           // SVCB/HTTPS SvcParams out of key order or malformed (RFC 9460 §2.2)
  BadRdataField,         // an RDATA field holds a value its type forbids (e.g. empty CAA tag)
};

std::string_view to_string(WireError e);

}  // namespace tern::dns

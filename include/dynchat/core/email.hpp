#pragma once
// Email syntax, as a dialogue's capture card and a REST booking check it.
#include <string_view>

namespace dynchat {

/// local@domain.tld, the common form: the local part of letters, digits and
/// !#$%&'*+/=?^_`{|}~.- with no dot at either end nor two in a row; the domain of labels
/// of letters, digits and '-' (neither end a '-'), at least two, the last of letters.
bool valid_email(std::string_view s);

} // namespace dynchat

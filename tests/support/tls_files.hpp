#pragma once
// A self-signed certificate for 127.0.0.1 and its key, made with OpenSSL's C API when a
// test starts and written as PEM files to a temporary directory removed at the end:
// nothing secret is committed and nothing outlives the test. A client trusts the
// certificate itself (it is its own issuer).
#include <string>
#include <vector>

namespace dynchat::testing {

class tls_files {
public:
  /// Throws std::runtime_error if OpenSSL refuses.
  tls_files();
  ~tls_files();
  tls_files(const tls_files&) = delete;
  tls_files& operator=(const tls_files&) = delete;

  const std::string& cert() const { return cert_; }
  const std::string& key() const { return key_; }
  /// A second key, which matches no certificate here.
  const std::string& other_key() const { return other_key_; }
  /// A file in the directory, for files a test writes itself.
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  /// The dynchatd flags that serve this certificate.
  std::vector<std::string> server_flags() const;

private:
  std::string dir_, cert_, key_, other_key_;
};

} // namespace dynchat::testing

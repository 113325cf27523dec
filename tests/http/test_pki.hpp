#pragma once
// A throwaway certificate authority made when a test starts (OpenSSL's C API, in
// memory, written as PEM files to a temporary directory removed at the end): nothing
// secret is committed, and nothing outlives the test run.
#include <memory>
#include <string>
#include <vector>

namespace dynchat::testing {

class test_pki {
public:
  /// Creates the directory and the CA (EC P-256, valid from an hour ago for a day).
  /// Throws std::runtime_error if OpenSSL refuses.
  test_pki();
  ~test_pki();
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;

  struct identity {
    std::string cert_file; // the server certificate then the CA's: the chain to present
    std::string key_file;
  };
  /// A server certificate signed by the CA for these subject alternative names
  /// ("DNS:localhost", "IP:127.0.0.1"); `name` names its files.
  identity issue(const std::string& name, const std::vector<std::string>& alt_names);

  /// The CA certificate, for the client's tls.ca_file.
  const std::string& ca_file() const { return ca_file_; }

  struct impl;

private:
  std::string dir_;
  std::string ca_file_;
  std::unique_ptr<impl> ca_; // the CA's key and certificate
};

} // namespace dynchat::testing

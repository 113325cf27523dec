#include "tls_files.hpp"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace dynchat::testing {
namespace {

struct openssl_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  void operator()(X509* c) const { X509_free(c); }
  void operator()(BIO* b) const { BIO_free(b); }
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
template <class T>
using owned = std::unique_ptr<T, openssl_free>;

[[noreturn]] void fail(const std::string& what) {
  char reason[256] = "no OpenSSL error";
  if (const auto e = ERR_get_error()) ERR_error_string_n(e, reason, sizeof reason);
  throw std::runtime_error("tls_files: " + what + ": " + reason);
}

owned<EVP_PKEY> new_key() {
  owned<EVP_PKEY> key{EVP_EC_gen("P-256")}; // fast to make, unlike RSA
  if (!key) fail("cannot make an EC key");
  return key;
}

void write_key(const std::string& path, EVP_PKEY* key) {
  owned<BIO> out{BIO_new_file(path.c_str(), "w")};
  if (!out || !PEM_write_bio_PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) fail("writing " + path);
}

} // namespace

tls_files::tls_files() {
  std::string pattern = (std::filesystem::temp_directory_path() / "dynchat-tls-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("tls_files: cannot make a temporary directory");
  dir_ = pattern;
  cert_ = dir_ + "/cert.pem";
  key_ = dir_ + "/key.pem";
  other_key_ = dir_ + "/other-key.pem";

  auto key = new_key();
  owned<X509> cert{X509_new()};
  if (!cert) fail("X509_new");
  X509_set_version(cert.get(), 2); // v3, for the extensions
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600); // clocks differ a little
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"}, std::pair{NID_basic_constraints, "CA:TRUE"}}) {
    owned<X509_EXTENSION> ext{X509V3_EXT_conf_nid(nullptr, &ctx, nid, value)};
    if (!ext || !X509_add_ext(cert.get(), ext.get(), -1)) fail(std::string{"extension "} + value);
  }
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) fail("signing the certificate");

  owned<BIO> out{BIO_new_file(cert_.c_str(), "w")};
  if (!out || !PEM_write_bio_X509(out.get(), cert.get())) fail("writing " + cert_);
  write_key(key_, key.get());
  write_key(other_key_, new_key().get());
}

tls_files::~tls_files() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::vector<std::string> tls_files::server_flags() const {
  // TOML literal strings: a temporary path holds no quote.
  return {"--set", "server.tls_cert='" + cert_ + "'", "--set", "server.tls_key='" + key_ + "'"};
}

} // namespace dynchat::testing

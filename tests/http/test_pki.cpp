#include "http/test_pki.hpp"

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace dynchat::testing {
namespace {

struct free_key {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct free_cert {
  void operator()(X509* c) const { X509_free(c); }
};
struct free_bio {
  void operator()(BIO* b) const { BIO_free(b); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, free_key>;
using cert_ptr = std::unique_ptr<X509, free_cert>;
using bio_ptr = std::unique_ptr<BIO, free_bio>;

[[noreturn]] void fail(const std::string& what) {
  char reason[256] = "no OpenSSL error";
  if (const auto e = ERR_get_error()) ERR_error_string_n(e, reason, sizeof reason);
  throw std::runtime_error("test_pki: " + what + ": " + reason);
}

key_ptr new_key() {
  key_ptr key{EVP_EC_gen("P-256")};
  if (!key) fail("cannot make an EC key");
  return key;
}

// issuer null: self-signed (the CA).
cert_ptr new_cert(EVP_PKEY* key, const std::string& common_name, X509* issuer) {
  cert_ptr cert{X509_new()};
  if (!cert) fail("X509_new");
  X509_set_version(cert.get(), 2); // v3, for the extensions
  // Random serials: a verifier may cache by issuer and serial.
  BIGNUM* serial = BN_new();
  if (!serial || !BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get())))
    fail("serial number");
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600); // clocks differ a little
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("dynchat tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  return cert;
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) fail("extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

bio_ptr open_for_writing(const std::string& path) {
  bio_ptr bio{BIO_new_file(path.c_str(), "w")};
  if (!bio) fail("cannot write " + path);
  return bio;
}

} // namespace

struct test_pki::impl {
  key_ptr key;
  cert_ptr cert;
};

test_pki::test_pki() {
  std::string pattern = (std::filesystem::temp_directory_path() / "dynchat-http-pki-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("test_pki: cannot make a temporary directory");
  dir_ = pattern;

  ca_ = std::make_unique<impl>();
  ca_->key = new_key();
  ca_->cert = new_cert(ca_->key.get(), "dynchat test CA", nullptr);
  X509* ca = ca_->cert.get();
  add_extension(ca, ca, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca, ca, NID_subject_key_identifier, "hash");
  if (!X509_sign(ca, ca_->key.get(), EVP_sha256())) fail("signing the CA");

  ca_file_ = dir_ + "/ca.pem";
  auto out = open_for_writing(ca_file_);
  if (!PEM_write_bio_X509(out.get(), ca)) fail("writing the CA");
}

test_pki::~test_pki() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

test_pki::identity test_pki::issue(const std::string& name, const std::vector<std::string>& alt_names) {
  auto key = new_key();
  auto cert = new_cert(key.get(), name, ca_->cert.get());
  X509* ca = ca_->cert.get();
  add_extension(cert.get(), ca, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), ca, NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), ca, NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), ca, NID_subject_key_identifier, "hash");
  add_extension(cert.get(), ca, NID_authority_key_identifier, "keyid:always");
  std::string sans;
  for (const auto& n : alt_names) sans += (sans.empty() ? "" : ",") + n;
  add_extension(cert.get(), ca, NID_subject_alt_name, sans);
  if (!X509_sign(cert.get(), ca_->key.get(), EVP_sha256())) fail("signing " + name);

  identity id{dir_ + "/" + name + ".pem", dir_ + "/" + name + ".key"};
  auto chain = open_for_writing(id.cert_file);
  if (!PEM_write_bio_X509(chain.get(), cert.get()) || !PEM_write_bio_X509(chain.get(), ca)) fail("writing " + name);
  auto key_out = open_for_writing(id.key_file);
  if (!PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr))
    fail("writing the key of " + name);
  return id;
}

} // namespace dynchat::testing

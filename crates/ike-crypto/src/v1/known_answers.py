#!/usr/bin/env python3
"""Known answers for ike_crypto::v1's tests, computed independently of the Rust code.

Written straight from RFC 2409 §5, §5.5, §5.7 and Appendix B, and RFC 3947 §3.2, with
Python's hashlib/hmac and the `cryptography` package's AES-CBC. Run it and paste the
output into tests.rs when an input changes:  python3 known_answers.py
"""
import hashlib
import hmac
import ipaddress
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def prf(h, key, data):
    return hmac.new(key, data, HASHES[h]).digest()


def digest(h, data):
    return HASHES[h](data).digest()


def u64(v):
    return struct.pack(">Q", v)


def u32(v):
    return struct.pack(">I", v)


# The fixed inputs (the same constants appear in tests.rs).
PSK = b"aws-tunnel-psk"
NI = bytes.fromhex("c0ffee00" * 8)
NR = bytes.fromhex("0badcafe" * 6)
G_XY = bytes(range(1, 65))
G_XI = bytes(range(0x40, 0x80))
G_XR = bytes(range(0x80, 0xC0))
CKY_I = 0x0123456789ABCDEF
CKY_R = 0xFEDCBA9876543210
# SA body: DOI IPsec, SIT_IDENTITY_ONLY, one ISAKMP proposal with one KEY_IKE transform
# (AES-CBC 256, SHA, PSK, group 14, 28800 s).
SAI_B = bytes.fromhex(
    "00000001" "00000001"
    "00000030" "01010001"
    "00000028" "01010000"
    "80010007" "800e0100" "80020002" "80030001" "8004000e" "800b0001" "000c0004" "00007080"
)
IDII_B = bytes.fromhex("011101f4c0000201")  # ID_IPV4_ADDR, UDP, 500, 192.0.2.1
IDIR_B = bytes.fromhex("011101f4c6336401")  # ID_IPV4_ADDR, UDP, 500, 198.51.100.1
MSG_ID = 0x1D2C3B4A
QM_REST = b"SA | Ni | IDci | IDcr payload chain"
QM_REST_R = b"SA | Nr | IDci | IDcr payload chain"
INFO_REST = b"N(R-U-THERE) payload"
G_QM = bytes(range(0xC0, 0x100)) + bytes(range(0, 0x40))  # 128 bytes
ESP = 3
SPI = 0xCAFE0001


def out(name, value):
    print(f"{name} = {value.hex()}")


def phase1(h, enc_len):
    skeyid = prf(h, PSK, NI + NR)
    ck = u64(CKY_I) + u64(CKY_R)
    d = prf(h, skeyid, G_XY + ck + b"\x00")
    a = prf(h, skeyid, d + G_XY + ck + b"\x01")
    e = prf(h, skeyid, a + G_XY + ck + b"\x02")
    if len(e) >= enc_len:
        key = e[:enc_len]
    else:
        key, k = b"", b"\x00"
        while len(key) < enc_len:
            k = prf(h, e, k)
            key += k
        key = key[:enc_len]
    return skeyid, d, a, e, key


def keymat(h, skeyid_d, g, length):
    seed = (g or b"") + bytes([ESP]) + u32(SPI) + NI + NR
    k = prf(h, skeyid_d, seed)
    mat = k
    while len(mat) < length:
        k = prf(h, skeyid_d, k + seed)
        mat += k
    return mat[:length]


def nat_d(h, addr, port):
    return digest(h, u64(CKY_I) + u64(CKY_R) + ipaddress.ip_address(addr).packed + struct.pack(">H", port))


def aes_cbc(key, iv, plain):
    plain += b"\x00" * (-len(plain) % 16)
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(plain) + enc.finalize()


print("# SHA1, AES-256: SKEYID_e (20 bytes) is expanded to a 32-byte key")
skeyid, d, a, e, key = phase1("sha1", 32)
for n, v in [("skeyid", skeyid), ("skeyid_d", d), ("skeyid_a", a), ("skeyid_e", e), ("enc_key", key)]:
    out(n, v)
sha1_keys = (skeyid, d, a, e, key)
print("# SHA-256, AES-128: SKEYID_e truncated")
skeyid2, d2, a2, e2, key2 = phase1("sha256", 16)
for n, v in [("skeyid", skeyid2), ("skeyid_d", d2), ("skeyid_a", a2), ("skeyid_e", e2), ("enc_key", key2)]:
    out(n, v)
print("# SHA-512, AES-256: truncated from 64 bytes")
out("enc_key", phase1("sha512", 32)[4])

print("# phase 1 IV")
out("iv sha1", digest("sha1", G_XI + G_XR)[:16])
out("iv sha256", digest("sha256", G_XI + G_XR)[:16])

print("# HASH_I / HASH_R with SHA1's SKEYID")
out("hash_i", prf("sha1", skeyid, G_XI + G_XR + u64(CKY_I) + u64(CKY_R) + SAI_B + IDII_B))
out("hash_r", prf("sha1", skeyid, G_XR + G_XI + u64(CKY_R) + u64(CKY_I) + SAI_B + IDIR_B))
print("# HASH_I / HASH_R with SHA-256's SKEYID")
out("hash_i", prf("sha256", skeyid2, G_XI + G_XR + u64(CKY_I) + u64(CKY_R) + SAI_B + IDII_B))
out("hash_r", prf("sha256", skeyid2, G_XR + G_XI + u64(CKY_R) + u64(CKY_I) + SAI_B + IDIR_B))

print("# Quick Mode hashes with SHA-256's SKEYID_a")
out("hash1", prf("sha256", a2, u32(MSG_ID) + QM_REST))
out("hash2", prf("sha256", a2, u32(MSG_ID) + NI + QM_REST_R))
out("hash3", prf("sha256", a2, b"\x00" + u32(MSG_ID) + NI + NR))
out("info", prf("sha256", a2, u32(MSG_ID) + INFO_REST))

print("# KEYMAT")
out("sha1 no pfs, 36 bytes (AES-128 + HMAC-SHA1)", keymat("sha1", d, None, 36))
out("sha256 pfs, 64 bytes (AES-256 + HMAC-SHA-256)", keymat("sha256", d2, G_QM, 64))
out("sha256 no pfs, 20 bytes (AES-GCM-16 128 + salt)", keymat("sha256", d2, None, 20))
out("sha1 pfs, 100 bytes (5 blocks)", keymat("sha1", d, G_QM, 100))

print("# NAT-D")
out("sha1 192.0.2.1:500", nat_d("sha1", "192.0.2.1", 500))
out("sha256 [2001:db8::1]:4500", nat_d("sha256", "2001:db8::1", 4500))

print("# AES-CBC with the SHA1 phase 1 key and IV, zero padded; then the next message chained")
iv = digest("sha1", G_XI + G_XR)[:16]
m1 = b"IDii | HASH_I of main mode 5"  # 28 bytes -> 32
c1 = aes_cbc(sha1_keys[4], iv, m1)
out("c1", c1)
m2 = b"IDir | HASH_R of main mode 6, 41 bytes"
c2 = aes_cbc(sha1_keys[4], c1[-16:], m2)
out("c2", c2)
print("# phase 2 IV from c2's last block")
out("p2 iv sha1", digest("sha1", c2[-16:] + u32(MSG_ID))[:16])
out("p2 iv sha256", digest("sha256", c2[-16:] + u32(MSG_ID))[:16])
print("# AES-128 and AES-192 CBC (key = bytes 0..n, IV = 0xa0.., plaintext 'IKEv1 quick mode')")
for n in (16, 24):
    out(f"aes{n*8}", aes_cbc(bytes(range(n)), bytes(range(0xA0, 0xB0)), b"IKEv1 quick mode"))

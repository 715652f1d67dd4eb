/*
 * tlsclient: a small mbedTLS client that prints what real devices and sample programs print.
 *
 * The test suite compiles it against the system mbedTLS (Debian's libmbedtls-dev, 2.28) and against
 * mbedTLS 3.6 built from source in several configurations, and runs it against servers it starts
 * itself, so that tlsdiag is checked against logs a real library has just written rather than against
 * fixtures that can be tuned to. The same source compiles against both: what only 3.x has (TLS 1.3,
 * PSA, groups and signature algorithms by IANA number, session tickets signalled to the application)
 * sits behind MBEDTLS_VERSION_MAJOR, and asking a 2.28 build for it is a usage error.
 *
 * Two framings of the same handshake:
 *   framing=plain   debug lines exactly as mbedTLS's example programs print them
 *                   ("ssl_tls.c:6751: |2| 0x7ffd...: => free", basename, line padded to 4 digits),
 *                   and the progress lines of ssl_client2's console ("  . Connecting to ... ok").
 *   framing=esp-idf every line the way ESP-IDF v4.4 (which bundles mbedTLS 2.28) logs it:
 *                   "I (123) mbedtls: ssl_tls.c:6751 => free" (W/I/D/V for debug levels 1/2/3/4, each
 *                   debug line followed by an empty line because ESP_LOG adds a newline to the one the
 *                   library already ends with, no context pointer as in a build without
 *                   MBEDTLS_THREADING_C), and esp-tls's own lines when the handshake fails. Built
 *                   against 3.x, the lines that differ follow ESP-IDF v5.x (which bundles 3.6):
 *                   "transport_base" and esp-tls's "read error :-0x%04X:".
 *
 * Options are key=value pairs, as with mbedTLS's sample programs; run without arguments for the list.
 * Exit status: 0 the connection worked, 1 it failed, 2 bad usage, 3 the overall time limit expired.
 */

/* 3.x keeps the session's ticket private; the client reports its size, as a level-4 log would show. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/debug.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_ciphersuites.h"
#include "mbedtls/version.h"
#include "mbedtls/x509_crt.h"

#if MBEDTLS_VERSION_MAJOR >= 3
#include "psa/crypto.h"
#endif
#if defined(MBEDTLS_MEMORY_BUFFER_ALLOC_C)
#include "mbedtls/memory_buffer_alloc.h"
#endif

/* mbedtls_ssl_conf_psk() exists only in a build with a PSK key exchange, which a device build may leave out. */
#if defined(MBEDTLS_SSL_HANDSHAKE_WITH_PSK_ENABLED) || defined(MBEDTLS_KEY_EXCHANGE_SOME_PSK_ENABLED)
#define TLSCLIENT_PSK 1
#else
#define TLSCLIENT_PSK 0
#endif

#define MAX_SUITES 32
#define MAX_IDS 16
#define MAX_HEAP (1024 * 1024)

struct named_id {
    const char *name;
    unsigned id;
};

#if MBEDTLS_VERSION_MAJOR >= 3
/* IANA numbers: TLS supported groups and TLS 1.3 signature schemes (what 3.x configures by number). */
static const struct named_id group_names[] = {
    {"secp256r1", 0x0017}, {"secp384r1", 0x0018}, {"secp521r1", 0x0019}, {"x25519", 0x001D},
    {"x448", 0x001E},      {"bp256r1", 0x001A},   {"ffdhe2048", 0x0100}, {NULL, 0},
};
static const struct named_id sig_alg_names[] = {
    {"rsa_pkcs1_sha256", 0x0401},       {"rsa_pkcs1_sha384", 0x0501},       {"rsa_pkcs1_sha512", 0x0601},
    {"ecdsa_secp256r1_sha256", 0x0403}, {"ecdsa_secp384r1_sha384", 0x0503}, {"ecdsa_secp521r1_sha512", 0x0603},
    {"rsa_pss_rsae_sha256", 0x0804},    {"rsa_pss_rsae_sha384", 0x0805},    {"rsa_pss_rsae_sha512", 0x0806},
    {"ed25519", 0x0807},                {NULL, 0},
};
#endif

struct options {
    const char *server_addr;
    const char *server_port;
    const char *server_name; /* SNI and the name checked against the certificate; "none" sets neither */
    const char *ca_file;
    const char *crt_file;
    const char *key_file;
    const char *psk_hex;
    const char *psk_identity;
    const char *ciphersuites; /* comma-separated IANA-style mbedTLS names */
    const char *request;      /* sent after the handshake; "none" sends nothing */
    int auth_mode;
    int max_frag_len;  /* MBEDTLS_SSL_MAX_FRAG_LEN_* */
    int debug_level;
    unsigned read_timeout_ms; /* 0 blocks */
    unsigned timeout_s;       /* bound on the whole run */
    int esp_idf;
    int log_colors;
    const char *tls_version;  /* "1.2", "1.3" or "both" (3.x); NULL leaves the build's default */
    const char *groups;       /* comma-separated names of group_names (3.x) */
    const char *sig_algs;     /* comma-separated names of sig_alg_names (3.x) */
    const char *kex_modes;    /* TLS 1.3 key exchange modes: psk, psk_ephemeral, ephemeral, psk_all, all */
    int psa_init;             /* 3.x: call psa_crypto_init() before anything else, as applications must */
    size_t heap_bytes;        /* 0: the C library's heap; else a fixed heap (MBEDTLS_MEMORY_BUFFER_ALLOC_C) */
    int reconnect;            /* 1: close, then connect again offering the saved session */
};

static struct options opt;
static struct timespec started;
static char context_prefix[32]; /* "0x7ffd...: ", the prefix a threading build puts on every debug line */

static const char *usage_text =
    "usage: tlsclient [key=value ...]\n"
    "  server_addr=127.0.0.1   server_port=4433\n"
    "  server_name=localhost   SNI and the host name checked against the certificate (none: neither)\n"
    "  ca_file=PATH            trusted CA certificates (PEM)\n"
    "  crt_file=PATH key_file=PATH   client certificate and its private key\n"
    "  auth_mode=required      none | optional | required\n"
    "  force_ciphersuite=NAME[,NAME...]   offer only these suites\n"
    "  max_frag_len=0          0 | 512 | 1024 | 2048 | 4096\n"
    "  psk=HEX psk_identity=Client_identity\n"
    "  debug_level=0           0 .. 4\n"
    "  read_timeout=0          milliseconds a read may wait (0: forever)\n"
    "  timeout=20              seconds the whole run may take\n"
    "  request=GET             GET sends 'GET / HTTP/1.0', none sends nothing\n"
    "  framing=plain           plain | esp-idf\n"
    "  log_colors=0            1: colour E/W/I lines as CONFIG_LOG_COLORS does (esp-idf framing)\n"
    "  tls_version=            1.2 | 1.3 | both (mbedTLS 3.x; default: what the build enables)\n"
    "  groups=NAME[,NAME...]   x25519, secp256r1, secp384r1, secp521r1, x448, bp256r1, ffdhe2048 (3.x)\n"
    "  sig_algs=NAME[,...]     e.g. ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256 (3.x)\n"
    "  kex_modes=all           TLS 1.3: psk | psk_ephemeral | ephemeral | psk_all | all (3.x)\n"
    "  psa_init=1              0: do not call psa_crypto_init() (3.x)\n"
    "  heap=0                  bytes of a fixed heap (needs MBEDTLS_MEMORY_BUFFER_ALLOC_C); 0: malloc\n"
    "  reconnect=0             1: save the session, close, connect again offering it\n";

static unsigned long elapsed_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (unsigned long) ((now.tv_sec - started.tv_sec) * 1000 + (now.tv_nsec - started.tv_nsec) / 1000000);
}

/* One ESP_LOGx record: "<colour>L (ms) tag: message<reset>\n". */
static void esp_log(char letter, const char *tag, const char *format, ...)
{
    const char *color = "";
    if (opt.log_colors) {
        color = letter == 'E' ? "\033[0;31m" : letter == 'W' ? "\033[0;33m" : letter == 'I' ? "\033[0;32m" : "";
    }
    va_list args;
    va_start(args, format);
    printf("%s%c (%lu) %s: ", color, letter, elapsed_ms(), tag);
    vprintf(format, args);
    printf("%s\n", *color ? "\033[0m" : "");
    va_end(args);
}

/* The console of the sample programs; the esp-idf framing logs the same facts as an application would. */
static void console(const char *format, ...)
{
    if (opt.esp_idf) {
        return;
    }
    va_list args;
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
}

static const char *basename_of(const char *path)
{
    const char *base = path;
    for (const char *p = path; *p; p++) {
        if (*p == '/' || *p == '\\') {
            base = p + 1;
        }
    }
    return base;
}

static void debug_line(void *unused, int level, const char *file, int line, const char *str)
{
    (void) unused;
    if (!opt.esp_idf) {
        printf("%s:%04d: |%d| %s", basename_of(file), line, level, str);
        return;
    }
    size_t prefix = strlen(context_prefix);
    if (prefix && strncmp(str, context_prefix, prefix) == 0) {
        str += prefix;
    }
    static const char letters[] = "EWIDV";
    char letter = level >= 1 && level <= 4 ? letters[level] : 'E';
    esp_log(letter, "mbedtls", "%s:%d %s", basename_of(file), line, str);
}

static void out_of_time(int signal_number)
{
    (void) signal_number;
    static const char text[] = "\n  ! timed out: the run took longer than its time limit\n";
    ssize_t ignored = write(STDOUT_FILENO, text, sizeof(text) - 1);
    (void) ignored;
    _exit(3);
}

static int parse_options(int argc, char **argv)
{
    opt.server_addr = "127.0.0.1";
    opt.server_port = "4433";
    opt.server_name = "localhost";
    opt.psk_identity = "Client_identity";
    opt.request = "GET";
    opt.auth_mode = MBEDTLS_SSL_VERIFY_REQUIRED;
    opt.timeout_s = 20;
    opt.psa_init = 1;
    for (int i = 1; i < argc; i++) {
        char *value = strchr(argv[i], '=');
        if (value == NULL) {
            return -1;
        }
        *value++ = '\0';
        const char *key = argv[i];
        if (strcmp(key, "server_addr") == 0) {
            opt.server_addr = value;
        } else if (strcmp(key, "server_port") == 0) {
            opt.server_port = value;
        } else if (strcmp(key, "server_name") == 0) {
            opt.server_name = value;
        } else if (strcmp(key, "ca_file") == 0) {
            opt.ca_file = value;
        } else if (strcmp(key, "crt_file") == 0) {
            opt.crt_file = value;
        } else if (strcmp(key, "key_file") == 0) {
            opt.key_file = value;
        } else if (strcmp(key, "psk") == 0) {
            opt.psk_hex = value;
        } else if (strcmp(key, "psk_identity") == 0) {
            opt.psk_identity = value;
        } else if (strcmp(key, "force_ciphersuite") == 0) {
            opt.ciphersuites = value;
        } else if (strcmp(key, "request") == 0) {
            opt.request = value;
        } else if (strcmp(key, "auth_mode") == 0) {
            if (strcmp(value, "none") == 0) {
                opt.auth_mode = MBEDTLS_SSL_VERIFY_NONE;
            } else if (strcmp(value, "optional") == 0) {
                opt.auth_mode = MBEDTLS_SSL_VERIFY_OPTIONAL;
            } else if (strcmp(value, "required") == 0) {
                opt.auth_mode = MBEDTLS_SSL_VERIFY_REQUIRED;
            } else {
                return -1;
            }
        } else if (strcmp(key, "max_frag_len") == 0) {
            int bytes = atoi(value);
            opt.max_frag_len = bytes == 0      ? MBEDTLS_SSL_MAX_FRAG_LEN_NONE
                               : bytes == 512  ? MBEDTLS_SSL_MAX_FRAG_LEN_512
                               : bytes == 1024 ? MBEDTLS_SSL_MAX_FRAG_LEN_1024
                               : bytes == 2048 ? MBEDTLS_SSL_MAX_FRAG_LEN_2048
                               : bytes == 4096 ? MBEDTLS_SSL_MAX_FRAG_LEN_4096
                                               : -1;
            if (opt.max_frag_len < 0) {
                return -1;
            }
        } else if (strcmp(key, "debug_level") == 0) {
            opt.debug_level = atoi(value);
            if (opt.debug_level < 0 || opt.debug_level > 4) {
                return -1;
            }
        } else if (strcmp(key, "read_timeout") == 0) {
            opt.read_timeout_ms = (unsigned) strtoul(value, NULL, 10);
        } else if (strcmp(key, "timeout") == 0) {
            opt.timeout_s = (unsigned) strtoul(value, NULL, 10);
        } else if (strcmp(key, "framing") == 0) {
            if (strcmp(value, "plain") == 0) {
                opt.esp_idf = 0;
            } else if (strcmp(value, "esp-idf") == 0) {
                opt.esp_idf = 1;
            } else {
                return -1;
            }
        } else if (strcmp(key, "log_colors") == 0) {
            opt.log_colors = atoi(value) != 0;
        } else if (strcmp(key, "tls_version") == 0) {
            if (strcmp(value, "1.2") != 0 && strcmp(value, "1.3") != 0 && strcmp(value, "both") != 0) {
                return -1;
            }
            opt.tls_version = value;
        } else if (strcmp(key, "groups") == 0) {
            opt.groups = value;
        } else if (strcmp(key, "sig_algs") == 0) {
            opt.sig_algs = value;
        } else if (strcmp(key, "kex_modes") == 0) {
            opt.kex_modes = value;
        } else if (strcmp(key, "psa_init") == 0) {
            opt.psa_init = atoi(value) != 0;
        } else if (strcmp(key, "heap") == 0) {
            opt.heap_bytes = (size_t) strtoul(value, NULL, 10);
            if (opt.heap_bytes > MAX_HEAP) {
                return -1;
            }
        } else if (strcmp(key, "reconnect") == 0) {
            opt.reconnect = atoi(value) != 0;
        } else {
            return -1;
        }
    }
    return 0;
}

/* "TLS-A,TLS-B" -> suite ids ending in 0; -1 when a name is unknown to this build. */
static int parse_suites(const char *names, int *ids)
{
    char buffer[1024];
    int count = 0;
    snprintf(buffer, sizeof(buffer), "%s", names);
    for (char *name = strtok(buffer, ","); name != NULL; name = strtok(NULL, ",")) {
        int id = mbedtls_ssl_get_ciphersuite_id(name);
        if (id == 0 || count == MAX_SUITES) {
            fprintf(stderr, "tlsclient: unknown ciphersuite %s\n", name);
            return -1;
        }
        ids[count++] = id;
    }
    ids[count] = 0;
    return count > 0 ? 0 : -1;
}

static int parse_hex(const char *hex, unsigned char *out, size_t size, size_t *length)
{
    size_t digits = strlen(hex);
    if (digits % 2 != 0 || digits / 2 > size) {
        return -1;
    }
    for (size_t i = 0; i < digits / 2; i++) {
        unsigned int byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
            return -1;
        }
        out[i] = (unsigned char) byte;
    }
    *length = digits / 2;
    return 0;
}

/* What the sample programs and esp-tls print when a call fails. */
#if MBEDTLS_VERSION_MAJOR >= 3
#define TRANSPORT_TAG "transport_base" /* ESP-IDF v5.x */
#else
#define TRANSPORT_TAG "TRANSPORT_BASE" /* ESP-IDF v4.4 */
#endif

/* What the sample programs and esp-tls print when a call fails. */
static void report_failure(const char *call, int ret)
{
    char text[128];
    mbedtls_strerror(ret, text, sizeof(text));
    if (opt.esp_idf) {
        if (MBEDTLS_VERSION_MAJOR >= 3 && strcmp(call, "mbedtls_ssl_read") == 0) {
            esp_log('E', "esp-tls-mbedtls", "read error :-0x%04X:", (unsigned int) -ret);
        } else {
            esp_log('E', "esp-tls-mbedtls", "%s returned -0x%04X", call, (unsigned int) -ret);
        }
        esp_log('I', "esp-tls-mbedtls", "(%04X): %s", (unsigned int) ret, text);
    } else {
        printf(" failed\n  ! %s returned -0x%x\n\n", call, (unsigned int) -ret);
    }
}

static void report_verify_result(const mbedtls_ssl_context *ssl)
{
    uint32_t flags = mbedtls_ssl_get_verify_result(ssl);
    char info[512];
    if (opt.esp_idf) {
        if (flags != 0) {
            esp_log('I', "esp-tls-mbedtls", "Failed to verify peer certificate!");
            mbedtls_x509_crt_verify_info(info, 100, "  ! ", flags);
            esp_log('D', "esp-tls-mbedtls", "verification info: %s", info);
        } else {
            esp_log('I', "esp-tls-mbedtls", "Certificate verified.");
        }
        return;
    }
    printf("  . Verifying peer X.509 certificate...");
    if (flags != 0) {
        mbedtls_x509_crt_verify_info(info, sizeof(info), "  ! ", flags);
        printf(" failed\n%s\n", info);
    } else {
        printf(" ok\n");
    }
}

#if MBEDTLS_VERSION_MAJOR >= 3
/* "a,b" of names in ``table`` -> IANA numbers ending in 0; -1 when a name is unknown. */
static int parse_ids(const char *names, const struct named_id *table, uint16_t *ids, const char *what)
{
    char buffer[512];
    int count = 0;
    snprintf(buffer, sizeof(buffer), "%s", names);
    for (char *name = strtok(buffer, ","); name != NULL; name = strtok(NULL, ",")) {
        const struct named_id *entry = table;
        while (entry->name != NULL && strcmp(entry->name, name) != 0) {
            entry++;
        }
        if (entry->name == NULL || count == MAX_IDS) {
            fprintf(stderr, "tlsclient: unknown %s %s\n", what, name);
            return -1;
        }
        ids[count++] = (uint16_t) entry->id;
    }
    ids[count] = 0;
    return count > 0 ? 0 : -1;
}

static int parse_kex_modes(const char *name)
{
    if (strcmp(name, "psk") == 0) {
        return MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK;
    } else if (strcmp(name, "psk_ephemeral") == 0) {
        return MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL;
    } else if (strcmp(name, "ephemeral") == 0) {
        return MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL;
    } else if (strcmp(name, "psk_all") == 0) {
        return MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ALL;
    } else if (strcmp(name, "all") == 0) {
        return MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_ALL;
    }
    return -1;
}
#endif

/* Everything one run configures once; the connection itself may be made twice (reconnect=1). */
struct client {
    mbedtls_net_context fd;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_ssl_session saved;
    int have_saved;
};

static int random_bytes(void *context, unsigned char *output, size_t length)
{
    return mbedtls_ctr_drbg_random(context, output, length);
}

/* The handshake, the peer's certificate, then the request and the whole answer. */
static int handshake_and_exchange(struct client *client)
{
    int ret;
    mbedtls_ssl_context *ssl = &client->ssl;
    console("  . Performing the SSL/TLS handshake...");
    while ((ret = mbedtls_ssl_handshake(ssl)) != 0) {
        if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
            report_failure("mbedtls_ssl_handshake", ret);
            if (opt.esp_idf) {
                if (opt.ca_file != NULL) {
                    report_verify_result(ssl);
                }
                esp_log('E', "esp-tls", "Failed to open new connection");
                esp_log('E', TRANSPORT_TAG, "Failed to open a new connection");
            } else if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
                report_verify_result(ssl);
            }
            return ret;
        }
    }
    console(" ok\n    [ Protocol is %s ]\n    [ Ciphersuite is %s ]\n", mbedtls_ssl_get_version(ssl),
            mbedtls_ssl_get_ciphersuite(ssl));
    if (opt.esp_idf) {
        esp_log('I', "tlsclient", "Connection established (%s, %s)", mbedtls_ssl_get_version(ssl),
                mbedtls_ssl_get_ciphersuite(ssl));
    } else {
        report_verify_result(ssl);
    }
#if MBEDTLS_VERSION_MAJOR >= 3
    int tls13 = mbedtls_ssl_get_version_number(ssl) == MBEDTLS_SSL_VERSION_TLS1_3;
#else
    int tls13 = 0;
#endif
    if (opt.reconnect && !tls13 && !client->have_saved) {
        console("  . Saving session for reuse...");
        if ((ret = mbedtls_ssl_get_session(ssl, &client->saved)) != 0) {
            report_failure("mbedtls_ssl_get_session", ret);
            return ret;
        }
        client->have_saved = 1;
        console(" ok\n");
    }

    if (strcmp(opt.request, "none") == 0) {
        return 0;
    }
    const char *request = "GET / HTTP/1.0\r\n\r\n";
    unsigned char buffer[1024];
    size_t total = 0;
    while ((ret = mbedtls_ssl_write(ssl, (const unsigned char *) request, strlen(request))) <= 0) {
        if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
            console("  > Write to server:");
            report_failure("mbedtls_ssl_write", ret);
            return ret;
        }
    }
    console("  > Write to server: %d bytes written\n\n%s", ret, request);
    console("  < Read from server:");
    for (;;) {
        ret = mbedtls_ssl_read(ssl, buffer, sizeof(buffer) - 1);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
            continue;
        }
#if MBEDTLS_VERSION_MAJOR >= 3
        if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
            /* TLS 1.3: a ticket arrived after the handshake (signalled only when reconnect=1 asks for it) */
            if (opt.reconnect && !client->have_saved) {
                console(" got a session ticket\n  . Saving session for reuse...");
                if ((ret = mbedtls_ssl_get_session(ssl, &client->saved)) != 0) {
                    report_failure("mbedtls_ssl_get_session", ret);
                    return ret;
                }
                client->have_saved = 1;
                console(" ok\n  < Read from server:");
            }
            continue;
        }
#endif
        if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == 0) {
            break;
        }
        if (ret < 0) {
            report_failure("mbedtls_ssl_read", ret);
            return ret;
        }
        total += (size_t) ret;
    }
    console(" %zu bytes read\n", total);
    if (opt.esp_idf) {
        esp_log('I', "tlsclient", "%zu bytes read", total);
    }
    return 0;
}

/* The second connection of reconnect=1: the same configuration, the saved session offered if there is one. */
static int reconnect(struct client *client)
{
    int ret;
    if (!client->have_saved) {
        /* TLS 1.3 without a ticket: take what the library holds, as an application that saves the session
         * after every connection does */
        console("  . Saving session for reuse...");
        if ((ret = mbedtls_ssl_get_session(&client->ssl, &client->saved)) != 0) {
            report_failure("mbedtls_ssl_get_session", ret);
            return ret;
        }
        client->have_saved = 1;
        console(" ok\n");
    }
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    console("    [ Saved session ticket: %zu bytes ]\n", client->saved.ticket_len);
    if (opt.esp_idf) {
        esp_log('I', "tlsclient", "Saved session ticket: %zu bytes", client->saved.ticket_len);
    }
#endif
    mbedtls_ssl_close_notify(&client->ssl);
    mbedtls_net_free(&client->fd);
    console("  . Reconnecting with saved session...");
    if ((ret = mbedtls_ssl_session_reset(&client->ssl)) != 0) {
        report_failure("mbedtls_ssl_session_reset", ret);
        return ret;
    }
    if ((ret = mbedtls_ssl_set_session(&client->ssl, &client->saved)) != 0) {
        report_failure("mbedtls_ssl_set_session", ret);
        return ret;
    }
    if ((ret = mbedtls_net_connect(&client->fd, opt.server_addr, opt.server_port, MBEDTLS_NET_PROTO_TCP)) != 0) {
        report_failure("mbedtls_net_connect", ret);
        return ret;
    }
    console(" ok\n");
    if (opt.esp_idf) {
        esp_log('I', "tlsclient", "Reconnecting to %s:%s with the saved session", opt.server_addr, opt.server_port);
    }
    return handshake_and_exchange(client);
}

/* Options that only a 3.x build understands, applied to the configuration; -1 after a usage message. */
static int configure_3x(mbedtls_ssl_config *conf, uint16_t *groups, uint16_t *sig_algs)
{
#if MBEDTLS_VERSION_MAJOR >= 3
    if (opt.tls_version != NULL) {
        int tls12 = strcmp(opt.tls_version, "1.3") != 0, tls13 = strcmp(opt.tls_version, "1.2") != 0;
        mbedtls_ssl_conf_min_tls_version(conf, tls12 ? MBEDTLS_SSL_VERSION_TLS1_2 : MBEDTLS_SSL_VERSION_TLS1_3);
        mbedtls_ssl_conf_max_tls_version(conf, tls13 ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2);
    }
    if (opt.groups != NULL) {
        if (parse_ids(opt.groups, group_names, groups, "group") != 0) {
            return -1;
        }
        mbedtls_ssl_conf_groups(conf, groups);
    }
    if (opt.sig_algs != NULL) {
        if (parse_ids(opt.sig_algs, sig_alg_names, sig_algs, "signature algorithm") != 0) {
            return -1;
        }
        mbedtls_ssl_conf_sig_algs(conf, sig_algs);
    }
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    if (opt.kex_modes != NULL) {
        int modes = parse_kex_modes(opt.kex_modes);
        if (modes < 0) {
            fprintf(stderr, "tlsclient: unknown kex_modes %s\n", opt.kex_modes);
            return -1;
        }
        mbedtls_ssl_conf_tls13_key_exchange_modes(conf, modes);
    }
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    if (opt.reconnect) {
        mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(conf,
                                                                MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
    }
#endif
#endif
    return 0;
#else
    (void) conf;
    (void) groups;
    (void) sig_algs;
    if (opt.tls_version != NULL && strcmp(opt.tls_version, "1.2") != 0) {
        fputs("tlsclient: this mbedTLS has no TLS 1.3\n", stderr);
        return -1;
    }
    if (opt.groups != NULL || opt.sig_algs != NULL || opt.kex_modes != NULL || !opt.psa_init) {
        fputs("tlsclient: groups, sig_algs, kex_modes and psa_init need mbedTLS 3.x\n", stderr);
        return -1;
    }
    return 0;
#endif
}

#if defined(MBEDTLS_MEMORY_BUFFER_ALLOC_C)
static unsigned char heap[MAX_HEAP];
#endif

static int use_fixed_heap(void)
{
    if (opt.heap_bytes == 0) {
        return 0;
    }
#if defined(MBEDTLS_MEMORY_BUFFER_ALLOC_C)
    mbedtls_memory_buffer_alloc_init(heap, opt.heap_bytes);
    if (opt.esp_idf) {
        esp_log('I', "tlsclient", "mbedTLS heap: %zu bytes", opt.heap_bytes);
    } else {
        printf("  . mbedTLS heap: %zu bytes\n", opt.heap_bytes);
    }
    return 0;
#else
    fputs("tlsclient: heap= needs a build with MBEDTLS_MEMORY_BUFFER_ALLOC_C\n", stderr);
    return -1;
#endif
}

int main(int argc, char **argv)
{
    int ret = 1, exit_code = 1;
    int suites[MAX_SUITES + 1];
    uint16_t groups[MAX_IDS + 1], sig_algs[MAX_IDS + 1];
    unsigned char psk[64];
    size_t psk_length = 0;
    const char *pers = "tlsclient";
    struct client client;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context ctr_drbg;
    mbedtls_x509_crt cacert, clicert;
    mbedtls_pk_context pkey;

    clock_gettime(CLOCK_MONOTONIC, &started);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || parse_options(argc, argv) != 0) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (opt.ciphersuites != NULL && parse_suites(opt.ciphersuites, suites) != 0) {
        return 2;
    }
    if (opt.psk_hex != NULL && parse_hex(opt.psk_hex, psk, sizeof(psk), &psk_length) != 0) {
        fputs("tlsclient: psk must be an even number of hex digits, at most 64 bytes\n", stderr);
        return 2;
    }
    if (psk_length > 0 && !TLSCLIENT_PSK) {
        fputs("tlsclient: psk needs a build with a PSK key exchange\n", stderr);
        return 2;
    }
    if (use_fixed_heap() != 0) {
        return 2;
    }
    signal(SIGALRM, out_of_time);
    alarm(opt.timeout_s);

    memset(&client, 0, sizeof(client));
    mbedtls_net_init(&client.fd);
    mbedtls_ssl_init(&client.ssl);
    mbedtls_ssl_config_init(&client.conf);
    mbedtls_ssl_session_init(&client.saved);
    mbedtls_x509_crt_init(&cacert);
    mbedtls_x509_crt_init(&clicert);
    mbedtls_pk_init(&pkey);
    mbedtls_ctr_drbg_init(&ctr_drbg);
    mbedtls_entropy_init(&entropy);
    mbedtls_debug_set_threshold(opt.debug_level);
    snprintf(context_prefix, sizeof(context_prefix), "%p: ", (void *) &client.ssl);

    if (opt.esp_idf) {
        esp_log('I', "tlsclient", "Connecting to %s:%s", opt.server_addr, opt.server_port);
    }
#if MBEDTLS_VERSION_MAJOR >= 3
    if (opt.psa_init) {
        psa_status_t status = psa_crypto_init();
        if (status != PSA_SUCCESS) {
            console("  ! psa_crypto_init returned %d\n", (int) status);
            if (opt.esp_idf) {
                esp_log('E', "tlsclient", "psa_crypto_init returned %d", (int) status);
            }
            goto exit;
        }
    }
#endif
    console("\n  . Seeding the random number generator...");
    ret = mbedtls_ctr_drbg_seed(&ctr_drbg, mbedtls_entropy_func, &entropy, (const unsigned char *) pers,
                                strlen(pers));
    if (ret != 0) {
        report_failure("mbedtls_ctr_drbg_seed", ret);
        goto exit;
    }
    console(" ok\n");

    if (opt.ca_file != NULL) {
        console("  . Loading the CA root certificate ...");
        ret = mbedtls_x509_crt_parse_file(&cacert, opt.ca_file);
        if (ret < 0) {
            report_failure("mbedtls_x509_crt_parse_file", ret);
            goto exit;
        }
        console(" ok (%d skipped)\n", ret);
    }
    if (opt.crt_file != NULL || opt.key_file != NULL) {
        console("  . Loading the client cert. and key...");
        ret = opt.crt_file != NULL ? mbedtls_x509_crt_parse_file(&clicert, opt.crt_file) : 0;
        if (ret != 0) {
            report_failure("mbedtls_x509_crt_parse_file", ret);
            goto exit;
        }
#if MBEDTLS_VERSION_MAJOR >= 3
        ret = opt.key_file != NULL ? mbedtls_pk_parse_keyfile(&pkey, opt.key_file, NULL, random_bytes, &ctr_drbg) : 0;
#else
        (void) random_bytes;
        ret = opt.key_file != NULL ? mbedtls_pk_parse_keyfile(&pkey, opt.key_file, NULL) : 0;
#endif
        if (ret != 0) {
            report_failure("mbedtls_pk_parse_keyfile", ret);
            goto exit;
        }
        console(" ok\n");
    }

    console("  . Connecting to tcp/%s/%s...", opt.server_addr, opt.server_port);
    ret = mbedtls_net_connect(&client.fd, opt.server_addr, opt.server_port, MBEDTLS_NET_PROTO_TCP);
    if (ret != 0) {
        report_failure("mbedtls_net_connect", ret);
        goto exit;
    }
    console(" ok\n");

    console("  . Setting up the SSL/TLS structure...");
    mbedtls_ssl_config *conf = &client.conf;
    ret = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        report_failure("mbedtls_ssl_config_defaults", ret);
        goto exit;
    }
    mbedtls_ssl_conf_authmode(conf, opt.auth_mode);
    mbedtls_ssl_conf_ca_chain(conf, &cacert, NULL);
    mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, &ctr_drbg);
    mbedtls_ssl_conf_dbg(conf, debug_line, NULL);
    mbedtls_ssl_conf_read_timeout(conf, opt.read_timeout_ms);
    if (opt.ciphersuites != NULL) {
        mbedtls_ssl_conf_ciphersuites(conf, suites);
    }
    if (opt.max_frag_len != MBEDTLS_SSL_MAX_FRAG_LEN_NONE &&
        (ret = mbedtls_ssl_conf_max_frag_len(conf, (unsigned char) opt.max_frag_len)) != 0) {
        report_failure("mbedtls_ssl_conf_max_frag_len", ret);
        goto exit;
    }
    if (opt.crt_file != NULL && (ret = mbedtls_ssl_conf_own_cert(conf, &clicert, &pkey)) != 0) {
        report_failure("mbedtls_ssl_conf_own_cert", ret);
        goto exit;
    }
#if TLSCLIENT_PSK
    if (psk_length > 0 &&
        (ret = mbedtls_ssl_conf_psk(conf, psk, psk_length, (const unsigned char *) opt.psk_identity,
                                    strlen(opt.psk_identity))) != 0) {
        report_failure("mbedtls_ssl_conf_psk", ret);
        goto exit;
    }
#endif
    if (configure_3x(conf, groups, sig_algs) != 0) {
        exit_code = 2;
        goto exit;
    }
    if ((ret = mbedtls_ssl_setup(&client.ssl, conf)) != 0) {
        report_failure("mbedtls_ssl_setup", ret);
        goto exit;
    }
    if (strcmp(opt.server_name, "none") != 0 &&
        (ret = mbedtls_ssl_set_hostname(&client.ssl, opt.server_name)) != 0) {
        report_failure("mbedtls_ssl_set_hostname", ret);
        goto exit;
    }
    mbedtls_ssl_set_bio(&client.ssl, &client.fd, mbedtls_net_send, mbedtls_net_recv, mbedtls_net_recv_timeout);
    console(" ok\n");

    if ((ret = handshake_and_exchange(&client)) != 0) {
        goto exit;
    }
    if (opt.reconnect && (ret = reconnect(&client)) != 0) {
        goto exit;
    }
    console("  . Closing the connection...");
    mbedtls_ssl_close_notify(&client.ssl);
    console(" done\n");
    exit_code = 0;
    ret = 0;

exit:
    if (ret != 0 && !opt.esp_idf) {
        char text[128];
        mbedtls_strerror(ret, text, sizeof(text));
        printf("Last error was: -0x%X - %s\n\n", (unsigned int) -ret, text);
    }
    mbedtls_net_free(&client.fd);
    mbedtls_x509_crt_free(&clicert);
    mbedtls_x509_crt_free(&cacert);
    mbedtls_pk_free(&pkey);
    mbedtls_ssl_session_free(&client.saved);
    mbedtls_ssl_free(&client.ssl);
    mbedtls_ssl_config_free(&client.conf);
    mbedtls_ctr_drbg_free(&ctr_drbg);
    mbedtls_entropy_free(&entropy);
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_psa_crypto_free();
#endif
    return exit_code;
}

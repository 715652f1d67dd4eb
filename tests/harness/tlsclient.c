/*
 * tlsclient: a small mbedTLS 2.28 client that prints what real devices and sample programs print.
 *
 * The test suite compiles it against the system mbedTLS (Debian's libmbedtls-dev) and runs it against
 * servers it starts itself, so that tlsdiag is checked against logs a real library has just written
 * rather than against fixtures that can be tuned to.
 *
 * Two framings of the same handshake:
 *   framing=plain   debug lines exactly as mbedTLS's example programs print them
 *                   ("ssl_tls.c:6751: |2| 0x7ffd...: => free", basename, line padded to 4 digits),
 *                   and the progress lines of ssl_client2's console ("  . Connecting to ... ok").
 *   framing=esp-idf every line the way ESP-IDF v4.4 (which bundles mbedTLS 2.28) logs it:
 *                   "I (123) mbedtls: ssl_tls.c:6751 => free" (W/I/D/V for debug levels 1/2/3/4, each
 *                   debug line followed by an empty line because ESP_LOG adds a newline to the one the
 *                   library already ends with, no context pointer as in a build without
 *                   MBEDTLS_THREADING_C), and esp-tls's own lines when the handshake fails.
 *
 * Options are key=value pairs, as with mbedTLS's sample programs; run without arguments for the list.
 * Exit status: 0 the connection worked, 1 it failed, 2 bad usage, 3 the overall time limit expired.
 */

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
#include "mbedtls/x509_crt.h"

#define MAX_SUITES 32

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
    "  log_colors=0            1: colour E/W/I lines as CONFIG_LOG_COLORS does (esp-idf framing)\n";

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
static void report_failure(const char *call, int ret)
{
    char text[128];
    mbedtls_strerror(ret, text, sizeof(text));
    if (opt.esp_idf) {
        esp_log('E', "esp-tls-mbedtls", "%s returned -0x%04X", call, (unsigned int) -ret);
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

int main(int argc, char **argv)
{
    int ret = 1, exit_code = 1;
    int suites[MAX_SUITES + 1];
    unsigned char psk[64];
    size_t psk_length = 0;
    const char *pers = "tlsclient";
    mbedtls_net_context server_fd;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context ctr_drbg;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
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
    signal(SIGALRM, out_of_time);
    alarm(opt.timeout_s);

    mbedtls_net_init(&server_fd);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&cacert);
    mbedtls_x509_crt_init(&clicert);
    mbedtls_pk_init(&pkey);
    mbedtls_ctr_drbg_init(&ctr_drbg);
    mbedtls_entropy_init(&entropy);
    mbedtls_debug_set_threshold(opt.debug_level);
    snprintf(context_prefix, sizeof(context_prefix), "%p: ", (void *) &ssl);

    if (opt.esp_idf) {
        esp_log('I', "tlsclient", "Connecting to %s:%s", opt.server_addr, opt.server_port);
    }
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
        ret = opt.key_file != NULL ? mbedtls_pk_parse_keyfile(&pkey, opt.key_file, NULL) : 0;
        if (ret != 0) {
            report_failure("mbedtls_pk_parse_keyfile", ret);
            goto exit;
        }
        console(" ok\n");
    }

    console("  . Connecting to tcp/%s/%s...", opt.server_addr, opt.server_port);
    ret = mbedtls_net_connect(&server_fd, opt.server_addr, opt.server_port, MBEDTLS_NET_PROTO_TCP);
    if (ret != 0) {
        report_failure("mbedtls_net_connect", ret);
        goto exit;
    }
    console(" ok\n");

    console("  . Setting up the SSL/TLS structure...");
    ret = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        report_failure("mbedtls_ssl_config_defaults", ret);
        goto exit;
    }
    mbedtls_ssl_conf_authmode(&conf, opt.auth_mode);
    mbedtls_ssl_conf_ca_chain(&conf, &cacert, NULL);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &ctr_drbg);
    mbedtls_ssl_conf_dbg(&conf, debug_line, NULL);
    mbedtls_ssl_conf_read_timeout(&conf, opt.read_timeout_ms);
    if (opt.ciphersuites != NULL) {
        mbedtls_ssl_conf_ciphersuites(&conf, suites);
    }
    if (opt.max_frag_len != MBEDTLS_SSL_MAX_FRAG_LEN_NONE &&
        (ret = mbedtls_ssl_conf_max_frag_len(&conf, (unsigned char) opt.max_frag_len)) != 0) {
        report_failure("mbedtls_ssl_conf_max_frag_len", ret);
        goto exit;
    }
    if (opt.crt_file != NULL && (ret = mbedtls_ssl_conf_own_cert(&conf, &clicert, &pkey)) != 0) {
        report_failure("mbedtls_ssl_conf_own_cert", ret);
        goto exit;
    }
    if (psk_length > 0 &&
        (ret = mbedtls_ssl_conf_psk(&conf, psk, psk_length, (const unsigned char *) opt.psk_identity,
                                    strlen(opt.psk_identity))) != 0) {
        report_failure("mbedtls_ssl_conf_psk", ret);
        goto exit;
    }
    if ((ret = mbedtls_ssl_setup(&ssl, &conf)) != 0) {
        report_failure("mbedtls_ssl_setup", ret);
        goto exit;
    }
    if (strcmp(opt.server_name, "none") != 0 && (ret = mbedtls_ssl_set_hostname(&ssl, opt.server_name)) != 0) {
        report_failure("mbedtls_ssl_set_hostname", ret);
        goto exit;
    }
    mbedtls_ssl_set_bio(&ssl, &server_fd, mbedtls_net_send, mbedtls_net_recv, mbedtls_net_recv_timeout);
    console(" ok\n");

    console("  . Performing the SSL/TLS handshake...");
    while ((ret = mbedtls_ssl_handshake(&ssl)) != 0) {
        if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
            report_failure("mbedtls_ssl_handshake", ret);
            if (opt.esp_idf) {
                if (opt.ca_file != NULL) {
                    report_verify_result(&ssl);
                }
                esp_log('E', "esp-tls", "Failed to open new connection");
                esp_log('E', "TRANSPORT_BASE", "Failed to open a new connection");
            } else if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
                report_verify_result(&ssl);
            }
            goto exit;
        }
    }
    console(" ok\n    [ Protocol is %s ]\n    [ Ciphersuite is %s ]\n", mbedtls_ssl_get_version(&ssl),
            mbedtls_ssl_get_ciphersuite(&ssl));
    if (opt.esp_idf) {
        esp_log('I', "tlsclient", "Connection established (%s, %s)", mbedtls_ssl_get_version(&ssl),
                mbedtls_ssl_get_ciphersuite(&ssl));
    } else {
        report_verify_result(&ssl);
    }

    if (strcmp(opt.request, "none") != 0) {
        const char *request = "GET / HTTP/1.0\r\n\r\n";
        unsigned char buffer[1024];
        size_t total = 0;
        while ((ret = mbedtls_ssl_write(&ssl, (const unsigned char *) request, strlen(request))) <= 0) {
            if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
                console("  > Write to server:");
                report_failure("mbedtls_ssl_write", ret);
                goto exit;
            }
        }
        console("  > Write to server: %d bytes written\n\n%s", ret, request);
        console("  < Read from server:");
        for (;;) {
            ret = mbedtls_ssl_read(&ssl, buffer, sizeof(buffer) - 1);
            if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
                continue;
            }
            if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == 0) {
                break;
            }
            if (ret < 0) {
                report_failure("mbedtls_ssl_read", ret);
                goto exit;
            }
            total += (size_t) ret;
        }
        console(" %zu bytes read\n", total);
        if (opt.esp_idf) {
            esp_log('I', "tlsclient", "%zu bytes read", total);
        }
    }
    console("  . Closing the connection...");
    mbedtls_ssl_close_notify(&ssl);
    console(" done\n");
    exit_code = 0;
    ret = 0;

exit:
    if (ret != 0 && !opt.esp_idf) {
        char text[128];
        mbedtls_strerror(ret, text, sizeof(text));
        printf("Last error was: -0x%X - %s\n\n", (unsigned int) -ret, text);
    }
    mbedtls_net_free(&server_fd);
    mbedtls_x509_crt_free(&clicert);
    mbedtls_x509_crt_free(&cacert);
    mbedtls_pk_free(&pkey);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_ctr_drbg_free(&ctr_drbg);
    mbedtls_entropy_free(&entropy);
    return exit_code;
}

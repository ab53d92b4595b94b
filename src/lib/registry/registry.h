/* Talking to docker v2 / OCI distribution registries: references, the HTTP
 * client (libcurl), authentication, pull and push.
 *
 * Everything a registry sends is hostile: manifests and configs are bounded
 * (REGISTRY_MAX_MANIFEST), token and error bodies too (REGISTRY_MAX_SMALL),
 * every blob is verified (sha256 and size) while it streams to disk, and a
 * manifest pulled by digest must hash to that digest.  Credentials are never
 * printed (URLs in messages are redacted) and never sent to another host
 * (a redirect to blob storage elsewhere carries no Authorization).
 *
 * Ownership: a registry_ref owns its strings; a registry_client owns its curl
 * handle, credentials and tokens.  Nothing here prints except the progress
 * lines (stderr, per blob) that registry_opts asks for. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/hash.h"

#define REGISTRY_MAX_MANIFEST (4u << 20) /* manifests, indexes, configs */
#define REGISTRY_MAX_SMALL (1u << 20)    /* token responses, helper answers */

/* --- references (reference.c) --- */

struct registry_ref {
        char *scheme;     /* "https" or "http" (only when the user wrote http://) */
        char *host;       /* "registry-1.docker.io", "localhost:5000" (as used in URLs) */
        char *repository; /* "library/debian", "team/cat" */
        char *tag;        /* NULL when a digest was given without a tag; "latest" when neither */
        char *digest;     /* "sha256:<hex>" or NULL */
        char *username;   /* from URL userinfo, percent-decoded, or NULL */
        char *password;
        bool docker_hub; /* host is Docker Hub: docker media types on push, library/ prefix */
};

enum registry_ref_flags {
        /* Accept docker-style references without a scheme: "host:5000/repo:tag",
         * "repo@sha256:...", "docker.io/library/x", bare "debian" (Docker Hub).
         * Without this flag only http:// and https:// URLs are accepted. */
        REGISTRY_REF_DOCKER_STYLE = 1 << 0,
};

/* Parses "https://user:pass@host[:port]/repo/path[:tag][@sha256:...]" (the
 * original smith's form) and, with REGISTRY_REF_DOCKER_STYLE, docker's
 * reference syntax.  Errors are SMITH_ERR_USAGE and never contain the
 * password: "'https://host/' has no repository". */
int registry_ref_parse(const char *s, unsigned flags, struct registry_ref **ret, struct smith_error **err);
void registry_ref_free(struct registry_ref *r);
DEFINE_POINTER_CLEANUP(struct registry_ref, registry_ref_free)
/* "https://host/repo:tag" (or "@digest"), without userinfo: for messages. */
char *registry_ref_display(const struct registry_ref *r);
/* True if a smith.yaml `package:` names a registry image: an http(s) URL, or
 * a docker-style reference whose first component is a registry host (has a
 * '.' or a ':' or is "localhost").  Bare names stay package names. */
bool registry_ref_is_registry_package(const char *s);

/* --- the client (client.c, http.c, auth.c) --- */

struct registry_opts {
        bool insecure;        /* -k: do not verify TLS certificates */
        const char *ca_file;  /* --ca-file, else $SSL_CERT_FILE, else the system store */
        const char *platform; /* "os/arch[/variant]" to pick from an index, NULL = this host */
        bool verbose;         /* one line per blob on stderr */
        bool progress;        /* live per-blob progress (bytes, rate) when stderr is a TTY */
};

struct registry_client;

/* Credentials, in order: the ref's URL userinfo; $REGISTRY_AUTH_FILE, else
 * $XDG_RUNTIME_DIR/containers/auth.json; else ~/.docker/config.json
 * ($DOCKER_CONFIG/config.json): "auths" (base64 "auth" or username/password,
 * keys matched as docker does: "host", "https://host", "https://host/v1/",
 * Docker Hub's "https://index.docker.io/v1/"), "credHelpers" and
 * "credsStore" via `docker-credential-<name> get` (host on stdin, JSON out).
 * An identity token ("identitytoken", or a helper's Username "<token>") is
 * exchanged at the token realm (OAuth2 refresh grant) and sent nowhere else.
 * Nothing is contacted here. */
int registry_client_new(const struct registry_ref *ref, const struct registry_opts *o, struct registry_client **ret,
                        struct smith_error **err);
void registry_client_free(struct registry_client *c);
DEFINE_POINTER_CLEANUP(struct registry_client, registry_client_free)

struct cache;

struct registry_manifest_ref {
        char media_type[128]; /* of the chosen image manifest (OCI or Docker v2) */
        char digest[DIGEST_STR_LEN + 1];
        int64_t size;
};

/* Pulls the image the ref names into the cache's blob store
 * (blobs/sha256/<hex>, written only after verification, via cache_tmpfile()
 * and cache_blob_commit()): the manifest (an OCI index or Docker manifest
 * list is resolved to the platform asked for, one level: an index inside
 * it is an error; the index itself is stored too), its config and every layer not already in the store.  Returns the
 * chosen image manifest's descriptor; the caller then reads the image with
 * oci_image_from_store().  Retries with capped exponential backoff on
 * connection errors, 429 (Retry-After honoured) and 5xx; stalled transfers
 * time out; a blob that fails verification is an error (SMITH_ERR_REGISTRY)
 * and leaves nothing in the store. */
int registry_pull(struct registry_client *c, struct cache *cache, struct registry_manifest_ref *ret,
                  struct smith_error **err);

/* What registry_pull() would pull, without pulling it: the platform's
 * image manifest the ref resolves to (an index is fetched and resolved, not
 * stored), for `smith lock`.  Nothing goes into the cache. */
int registry_resolve(struct registry_client *c, struct registry_manifest_ref *ret, struct smith_error **err);

/* The manifest the ref names as the registry has it (an image manifest,
 * or an index: nothing resolved), bounded and verified against the digest
 * asked for; its media type and digest.  Nothing is stored. */
int registry_get_manifest(struct registry_client *c, char **ret_body, size_t *ret_len, char **ret_media_type,
                          char ret_digest[static DIGEST_STR_LEN + 1], struct smith_error **err);

struct oci_image;

/* The whole pull sequence: a client for ref, registry_pull(), then the
 * image read from the store (oci_image_from_store()), named as ref shows
 * it.  For `smith download` and registry package sources alike. */
int registry_pull_image(const struct registry_ref *ref, const struct registry_opts *o, struct cache *cache,
                        struct oci_image **ret, struct smith_error **err);

struct oci_referrers;

/* The image's OCI 1.1 artifacts (oci/referrers.h): GET referrers/<subject>
 * (Accept: an OCI index), and where the registry has no referrers API
 * (404, or an answer that is not an index) the index tagged
 * sha256-<hex> (the referrers tag schema).  Each artifact manifest listed
 * is fetched by digest (bounded, verified) and must name subject as its
 * subject, all of them before any blob; then their blobs go into the
 * store, verified as layers are.  No referrers is no error (*ret zeroed).
 * The client must have pulled from the repository (its scopes). */
int registry_pull_referrers(struct registry_client *c, struct cache *cache, const char *subject,
                            struct oci_referrers *ret, struct smith_error **err);
/* registry_pull_image(), and when the image is an OCI manifest (kept byte
 * for byte, so its artifacts still refer to it), registry_pull_referrers()
 * into *ret_referrers (NULL: not asked). */
int registry_pull_image_referrers(const struct registry_ref *ref, const struct registry_opts *o, struct cache *cache,
                                  struct oci_image **ret, struct oci_referrers *ret_referrers,
                                  struct smith_error **err);

/* Also try a cross-repository mount from repository (of the same registry)
 * for blobs the registry lacks, e.g. the repository the image's base came
 * from.  A mount the registry refuses falls back to an upload. */
int registry_client_add_mount_source(struct registry_client *c, const char *repository, struct smith_error **err);

/* Pushes an image whose blobs are files blobs/sha256/<hex> below blobs_fd
 * (blob_digests is NULL-terminated, blob_sizes has as many entries):
 * every layer and the config (HEAD first and skip what exists; cross-repo
 * mount when the client has pushed or pulled that blob from another
 * repository of the same registry; else POST then PUT, or PATCH chunks for
 * blobs larger than 64 MiB), then the manifest (the given bytes, PUT with
 * media_type as Content-Type) to the ref's tag (or digest).  A failed blob
 * upload restarts that blob. */
int registry_push(struct registry_client *c, int blobs_fd, char *const *blob_digests, const int64_t *blob_sizes,
                  const char *manifest, size_t manifest_len, const char *media_type, struct smith_error **err);

/* registry_push() with the manifest PUT by its digest, untagged: one
 * platform's image of a multi-platform index, which goes up last. */
int registry_push_by_digest(struct registry_client *c, int blobs_fd, char *const *blob_digests,
                            const int64_t *blob_sizes, const char *manifest, size_t manifest_len,
                            const char *media_type, struct smith_error **err);

/* After registry_push() of the manifest subject: every artifact of r, its
 * blobs as above, then its manifest PUT by digest.  When an answer carries
 * no OCI-Subject (a registry without the referrers API), the index tagged
 * sha256-<hex of subject> is read (404: none yet) and PUT back with the
 * artifacts it lacked appended after the ones it had; one that holds
 * something else than an image index is an error, never overwritten. */
int registry_push_referrers(struct registry_client *c, int blobs_fd, const char *subject, const struct oci_referrers *r,
                            struct smith_error **err);

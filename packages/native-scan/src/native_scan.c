// prefilter(paths, needles, anchors, maxFileBytes, sniffBytes, threads) -> Promise<Uint8Array>
//
// Reads every file on `threads` threads (one of them libuv's) and classes it, one byte per file:
// 0 holds no needle, 1 holds one (a candidate, looked at again in JavaScript), 2 binary (a NUL in
// the first sniffBytes), 3 over maxFileBytes, 4 unreadable. The rules are those of core's
// rotation/scan.ts, which treats the candidates.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CLASS_NONE = 0, CLASS_CANDIDATE = 1, CLASS_BINARY = 2, CLASS_TOO_LARGE = 3, CLASS_UNREADABLE = 4 };

#define CHUNK_FILES 32
#define FIRST_BUFFER (64 * 1024)
#define MAX_THREADS 16

typedef struct {
  // Inputs, copied out of JavaScript values before the work starts.
  size_t count;
  char *path_bytes;  // every path, NUL-terminated, one after another
  size_t *path_at;   // offset of each path in path_bytes; SIZE_MAX: not a usable path
  size_t needle_count;
  unsigned char *needle_bytes;
  size_t *needle_at;
  size_t *needle_len;
  size_t *anchor;    // index in its needle of the byte searched for first (the rarest)
  size_t max_bytes;
  size_t sniff_bytes;
  int threads;
  // Work.
  size_t next;       // next file to claim (atomic)
  unsigned char *classes;
  int failed;        // a thread could not start or allocate: the result is not used
  // JavaScript side.
  napi_async_work work;
  napi_deferred deferred;
} Job;

static int holds(const unsigned char *bytes, size_t length, const unsigned char *needle, size_t needle_length,
                 size_t anchor) {
  if (needle_length == 0) return 1;
  if (needle_length > length) return 0;
  const unsigned char *at = bytes + anchor;
  const unsigned char *last = bytes + (length - needle_length) + anchor;  // last place the anchor can be
  while (at <= last) {
    at = memchr(at, needle[anchor], (size_t)(last - at) + 1);
    if (at == NULL) return 0;
    if (memcmp(at - anchor, needle, needle_length) == 0) return 1;
    at++;
  }
  return 0;
}

/** Reads the file into *buffer (grown up to max_bytes + 1) and classes it. */
static unsigned char class_of(Job *job, const char *path, unsigned char **buffer, size_t *capacity) {
  int fd;
  do fd = open(path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return CLASS_UNREADABLE;
  size_t limit = job->max_bytes + 1;
  size_t length = 0;
  int unreadable = 0;
  while (length < limit) {
    if (length == *capacity) {
      size_t grown = *capacity * 4 < limit ? *capacity * 4 : limit;
      unsigned char *bigger = realloc(*buffer, grown);
      if (bigger == NULL) {
        unreadable = 1;
        break;
      }
      *buffer = bigger;
      *capacity = grown;
    }
    ssize_t got = read(fd, *buffer + length, *capacity - length);
    if (got < 0) {
      if (errno == EINTR) continue;
      unreadable = 1;
      break;
    }
    if (got == 0) break;
    length += (size_t)got;
  }
  close(fd);
  if (unreadable) return CLASS_UNREADABLE;
  if (length == limit) return CLASS_TOO_LARGE;
  if (memchr(*buffer, 0, length < job->sniff_bytes ? length : job->sniff_bytes) != NULL) return CLASS_BINARY;
  for (size_t n = 0; n < job->needle_count; n++) {
    if (holds(*buffer, length, job->needle_bytes + job->needle_at[n], job->needle_len[n], job->anchor[n]))
      return CLASS_CANDIDATE;
  }
  return CLASS_NONE;
}

static void *scan_thread(void *data) {
  Job *job = data;
  size_t capacity = FIRST_BUFFER < job->max_bytes + 1 ? FIRST_BUFFER : job->max_bytes + 1;
  unsigned char *buffer = malloc(capacity);
  if (buffer == NULL) {
    __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
    return NULL;
  }
  for (;;) {
    size_t start = __atomic_fetch_add(&job->next, CHUNK_FILES, __ATOMIC_RELAXED);
    if (start >= job->count) break;
    size_t end = start + CHUNK_FILES < job->count ? start + CHUNK_FILES : job->count;
    for (size_t i = start; i < end; i++) {
      job->classes[i] = job->path_at[i] == SIZE_MAX ? CLASS_UNREADABLE
                                                     : class_of(job, job->path_bytes + job->path_at[i], &buffer, &capacity);
    }
  }
  free(buffer);
  return NULL;
}

static void execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  pthread_t helpers[MAX_THREADS];
  int started = 0;
  for (int i = 1; i < job->threads && i < MAX_THREADS; i++) {
    if (pthread_create(&helpers[started], NULL, scan_thread, job) != 0) break;  // fewer threads: slower, not wrong
    started++;
  }
  scan_thread(job);
  for (int i = 0; i < started; i++) pthread_join(helpers[i], NULL);
}

static void free_job(Job *job) {
  free(job->path_bytes);
  free(job->path_at);
  free(job->needle_bytes);
  free(job->needle_at);
  free(job->needle_len);
  free(job->anchor);
  free(job->classes);
  free(job);
}

static void complete(napi_env env, napi_status status, void *data) {
  Job *job = data;
  napi_value result = NULL;
  if (status == napi_ok && !job->failed) {
    void *bytes;
    napi_value buffer;
    if (napi_create_arraybuffer(env, job->count, &bytes, &buffer) == napi_ok) {
      if (job->count > 0) memcpy(bytes, job->classes, job->count);
      napi_create_typedarray(env, napi_uint8_array, job->count, buffer, 0, &result);
    }
  }
  if (result != NULL) {
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message, error;
    napi_create_string_utf8(env, "The native scan failed (out of memory or threads)", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  free_job(job);
}

static napi_value throw_type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/** Copies a JavaScript array of strings into one block of NUL-terminated UTF-8. */
static int copy_paths(napi_env env, napi_value array, Job *job) {
  uint32_t count;
  if (napi_get_array_length(env, array, &count) != napi_ok) return 0;
  job->count = count;
  job->path_at = malloc(sizeof(size_t) * (count > 0 ? count : 1));
  job->classes = malloc(count > 0 ? count : 1);
  if (job->path_at == NULL || job->classes == NULL) return 0;
  size_t used = 0, capacity = 64 * (size_t)count + 64;
  job->path_bytes = malloc(capacity);
  if (job->path_bytes == NULL) return 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    size_t length;
    if (napi_get_element(env, array, i, &item) != napi_ok) return 0;
    if (napi_get_value_string_utf8(env, item, NULL, 0, &length) != napi_ok) return 0;
    while (used + length + 1 > capacity) {
      capacity *= 2;
      char *bigger = realloc(job->path_bytes, capacity);
      if (bigger == NULL) return 0;
      job->path_bytes = bigger;
    }
    napi_get_value_string_utf8(env, item, job->path_bytes + used, length + 1, &length);
    // A path holding NUL names no file (Node refuses it too).
    job->path_at[i] = strlen(job->path_bytes + used) == length ? used : SIZE_MAX;
    used += length + 1;
  }
  return 1;
}

/** Copies the needles (Buffers) and their anchors (numbers). */
static int copy_needles(napi_env env, napi_value needles, napi_value anchors, Job *job) {
  uint32_t count, anchor_count;
  if (napi_get_array_length(env, needles, &count) != napi_ok) return 0;
  if (napi_get_array_length(env, anchors, &anchor_count) != napi_ok || anchor_count != count) return 0;
  job->needle_count = count;
  job->needle_at = malloc(sizeof(size_t) * (count > 0 ? count : 1));
  job->needle_len = malloc(sizeof(size_t) * (count > 0 ? count : 1));
  job->anchor = malloc(sizeof(size_t) * (count > 0 ? count : 1));
  if (job->needle_at == NULL || job->needle_len == NULL || job->anchor == NULL) return 0;
  size_t total = 0;
  void **data = malloc(sizeof(void *) * (count > 0 ? count : 1));
  if (data == NULL) return 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item, anchor;
    bool is_buffer;
    double at;
    if (napi_get_element(env, needles, i, &item) != napi_ok || napi_is_buffer(env, item, &is_buffer) != napi_ok ||
        !is_buffer || napi_get_buffer_info(env, item, &data[i], &job->needle_len[i]) != napi_ok ||
        napi_get_element(env, anchors, i, &anchor) != napi_ok || napi_get_value_double(env, anchor, &at) != napi_ok ||
        !(at >= 0) || (job->needle_len[i] > 0 && at >= (double)job->needle_len[i])) {
      free(data);
      return 0;
    }
    job->anchor[i] = job->needle_len[i] > 0 ? (size_t)at : 0;
    job->needle_at[i] = total;
    total += job->needle_len[i];
  }
  job->needle_bytes = malloc(total > 0 ? total : 1);
  if (job->needle_bytes != NULL) {
    for (uint32_t i = 0; i < count; i++) {
      if (job->needle_len[i] > 0) memcpy(job->needle_bytes + job->needle_at[i], data[i], job->needle_len[i]);
    }
  }
  free(data);
  return job->needle_bytes != NULL;
}

static napi_value prefilter(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) {
    return throw_type_error(env, "prefilter(paths, needles, anchors, maxFileBytes, sniffBytes, threads)");
  }
  Job *job = calloc(1, sizeof(Job));
  if (job == NULL) return throw_type_error(env, "out of memory");
  double max_bytes, sniff_bytes;
  int32_t threads;
  if (!copy_paths(env, argv[0], job) || !copy_needles(env, argv[1], argv[2], job) ||
      napi_get_value_double(env, argv[3], &max_bytes) != napi_ok || !(max_bytes >= 0) ||
      napi_get_value_double(env, argv[4], &sniff_bytes) != napi_ok || !(sniff_bytes >= 0) ||
      napi_get_value_int32(env, argv[5], &threads) != napi_ok) {
    free_job(job);
    return throw_type_error(env, "prefilter: bad arguments (paths: string[], needles: Buffer[], anchors: number[], sizes, threads)");
  }
  job->max_bytes = (size_t)max_bytes;
  job->sniff_bytes = (size_t)sniff_bytes;
  job->threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
  napi_value promise, name;
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "profilegate:prefilter", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

NAPI_MODULE_INIT() {
  napi_value function;
  napi_create_function(env, "prefilter", NAPI_AUTO_LENGTH, prefilter, NULL, &function);
  napi_set_named_property(env, exports, "prefilter", function);
  return exports;
}

//===----------------------------------------------------------------------===//
//
// This source file is part of the job open source project
//
// Copyright (c) 2026 the job project authors
// Licensed under Apache License v2.0
//
// See LICENSE.txt for license information
//
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

#include "CJobWire.h"
#include "CJobSys.h"

/* Nothing here calls the C library: the fast path runs before it is set up (CJobSys.h). */

/* The protocol's version (ProtocolVersion.current) and the oldest it reads. */
enum { protocol_version = 8, oldest_version = 5 };
/* The largest frame read (FrameChannel.maximumFrame). */
enum { maximum_frame = 64 << 20 };
enum { kind_varint = 0, kind_fixed64 = 1, kind_bytes = 2 };

void cjw_empty(cjw_buffer *buffer) {
    buffer->bytes = NULL;
    buffer->count = buffer->capacity = 0;
    buffer->failed = 0;
}

void cjw_free(cjw_buffer *buffer) {
    cjs_release(buffer->bytes);
    buffer->bytes = NULL;
    buffer->count = buffer->capacity = 0;
}

static void put(cjw_buffer *buffer, const void *bytes, size_t count) {
    if (buffer->failed) return;
    if (buffer->count + count > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 512 - 16; /* grown in place in the arena */
        while (capacity < buffer->count + count) capacity *= 2;
        unsigned char *grown = cjs_reallocate(buffer->bytes, capacity);
        if (!grown) {
            buffer->failed = 1;
            return;
        }
        buffer->bytes = grown;
        buffer->capacity = capacity;
    }
    if (count) cjs_memcpy(buffer->bytes + buffer->count, bytes, count);
    buffer->count += count;
}

static void put_byte(cjw_buffer *buffer, unsigned char byte) { put(buffer, &byte, 1); }

static void put_varint(cjw_buffer *buffer, uint64_t value) {
    while (value >= 0x80) {
        put_byte(buffer, (unsigned char)(value | 0x80));
        value >>= 7;
    }
    put_byte(buffer, (unsigned char)value);
}

static void put_key(cjw_buffer *buffer, int tag, int kind) { put_varint(buffer, (uint64_t)tag << 3 | (uint64_t)kind); }

static void put_int(cjw_buffer *buffer, int tag, int64_t value) {
    put_key(buffer, tag, kind_varint);
    put_varint(buffer, (uint64_t)(value << 1) ^ (uint64_t)(value >> 63));
}

static void put_double(cjw_buffer *buffer, int tag, double value) {
    uint64_t bits;
    cjs_memcpy(&bits, &value, sizeof bits);
    put_key(buffer, tag, kind_fixed64);
    for (int index = 0; index < 8; index++) put_byte(buffer, (unsigned char)(bits >> (8 * index)));
}

static void put_counted(cjw_buffer *buffer, const void *bytes, size_t count) {
    put_varint(buffer, count);
    put(buffer, bytes, count);
}

static void put_text(cjw_buffer *buffer, int tag, const char *text, size_t count) {
    put_key(buffer, tag, kind_bytes);
    put_counted(buffer, text, count);
}

/* A length in front of what follows, in four bytes as the Swift encoder keeps room for it. */
static size_t begin_counted(cjw_buffer *buffer) {
    /* Byte by byte, not from a constant: a constant in memory is one more page to map. */
    for (int i = 0; i < 3; i++) put_byte(buffer, 0x80);
    put_byte(buffer, 0x00);
    return buffer->count;
}

static void end_counted(cjw_buffer *buffer, size_t start) {
    if (buffer->failed) return;
    size_t length = buffer->count - start;
    unsigned char *at = buffer->bytes + start - 4;
    at[0] = (unsigned char)((length & 0x7F) | 0x80);
    at[1] = (unsigned char)((length >> 7 & 0x7F) | 0x80);
    at[2] = (unsigned char)((length >> 14 & 0x7F) | 0x80);
    at[3] = (unsigned char)(length >> 21 & 0x7F);
}

/* A frame's length and header; returns where the payload's length goes. */
static size_t begin_frame(cjw_buffer *out, const char *verb) {
    out->count = 0;
    for (int i = 0; i < 4; i++) put_byte(out, 0);
    put_int(out, 1, protocol_version);
    put_text(out, 2, verb, cjs_strlen(verb));
    put_key(out, 3, kind_bytes);
    return begin_counted(out);
}

static void end_frame(cjw_buffer *out, size_t payload) {
    end_counted(out, payload);
    if (out->failed) return;
    size_t length = out->count - 4;
    out->bytes[0] = (unsigned char)(length >> 24);
    out->bytes[1] = (unsigned char)(length >> 16);
    out->bytes[2] = (unsigned char)(length >> 8);
    out->bytes[3] = (unsigned char)length;
}

static void put_selection(cjw_buffer *out, const char *const *selectors, int count) {
    put_key(out, 1, kind_bytes);
    size_t selection = begin_counted(out);
    if (count > 0) {
        put_key(out, 1, kind_bytes);
        size_t array = begin_counted(out);
        for (int index = 0; index < count; index++) put_counted(out, selectors[index], cjs_strlen(selectors[index]));
        end_counted(out, array);
    }
    put_int(out, 4, 0); /* all: false */
    end_counted(out, selection);
}

void cjw_start_frame(cjw_buffer *out, const char *command, size_t command_length, const char *name,
                     const char *directory, const char *const *environment, const char *shell, int umask) {
    size_t payload = begin_frame(out, "start");
    put_text(out, 1, command, command_length);
    if (name) put_text(out, 2, name, cjs_strlen(name));
    put_text(out, 3, directory, cjs_strlen(directory));
    if (environment[0]) {
        put_key(out, 4, kind_bytes);
        size_t array = begin_counted(out);
        for (const char *const *entry = environment; *entry; entry++) put_counted(out, *entry, cjs_strlen(*entry));
        end_counted(out, array);
    }
    put_text(out, 5, shell, cjs_strlen(shell));
    put_int(out, 6, 0); /* hasInput */
    put_int(out, 7, umask);
    put_int(out, 9, 0); /* throttleLimit */
    end_frame(out, payload);
}

void cjw_wait_frame(cjw_buffer *out, const char *const *selectors, int count, double timeout) {
    size_t payload = begin_frame(out, "wait");
    put_selection(out, selectors, count);
    put_int(out, 2, 0); /* any */
    put_double(out, 3, timeout);
    end_frame(out, payload);
}

void cjw_get_frame(cjw_buffer *out, const char *const *selectors, int count) {
    size_t payload = begin_frame(out, "get");
    put_selection(out, selectors, count);
    put_int(out, 2, 0); /* includeChildren */
    end_frame(out, payload);
}

/* ShellWords.isPlain: the bytes a word may hold and go to the shell unquoted. */
static int is_plain_byte(unsigned char byte) {
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9')) return 1;
    return cjs_strchr("_@%+=:,./-", byte) != 0 && byte != 0;
}

void cjw_command_line(cjw_buffer *out, const char *const *words, int count) {
    out->count = 0;
    if (count == 1) {
        put(out, words[0], cjs_strlen(words[0]));
        return;
    }
    for (int index = 0; index < count; index++) {
        const unsigned char *word = (const unsigned char *)words[index];
        if (index > 0) put_byte(out, ' ');
        int plain = word[0] != 0;
        for (const unsigned char *at = word; *at && plain; at++) plain = is_plain_byte(*at);
        if (plain) {
            put(out, word, cjs_strlen(words[index]));
            continue;
        }
        put_byte(out, '\'');
        for (const unsigned char *at = word; *at; at++) {
            if (*at == '\'') put(out, "'\\''", 4);
            else put_byte(out, *at);
        }
        put_byte(out, '\'');
    }
}

int cjw_is_plain_text(const unsigned char *text, size_t length) {
    size_t index = 0;
    while (index < length) {
        unsigned char byte = text[index];
        if (byte < 0x80) {
            index++;
            continue;
        }
        size_t count;
        uint32_t scalar;
        if (byte >= 0xC2 && byte <= 0xDF) {
            count = 2;
            scalar = byte & 0x1F;
        } else if (byte >= 0xE0 && byte <= 0xEF) {
            count = 3;
            scalar = byte & 0x0F;
        } else if (byte >= 0xF0 && byte <= 0xF3) {
            count = 4;
            scalar = byte & 0x07;
        } else {
            return 0; /* a continuation byte, an overlong lead, 0xF4 and above */
        }
        if (length - index < count) return 0;
        for (size_t next = 1; next < count; next++) {
            unsigned char continuation = text[index + next];
            if ((continuation & 0xC0) != 0x80) return 0;
            scalar = scalar << 6 | (continuation & 0x3F);
        }
        if ((count == 3 && (scalar < 0x800 || (scalar >= 0xD800 && scalar <= 0xDFFF))) ||
            (count == 4 && scalar < 0x10000))
            return 0;
        index += count;
    }
    return 1;
}

/* MARK: - Reading */

typedef struct {
    const unsigned char *at;
    const unsigned char *end;
} reader;

typedef struct {
    int tag;
    int kind;
    uint64_t number;
    reader bytes;
} field;

static int read_varint(reader *from, uint64_t *value) {
    uint64_t result = 0;
    for (int shift = 0; from->at < from->end; shift += 7) {
        unsigned char byte = *from->at++;
        if (shift >= 64) return -1;
        result |= (uint64_t)(byte & 0x7F) << shift;
        if (byte < 0x80) {
            *value = result;
            return 0;
        }
    }
    return -1;
}

static int read_counted(reader *from, reader *inner) {
    uint64_t length;
    if (read_varint(from, &length) != 0 || length > (uint64_t)(from->end - from->at)) return -1;
    inner->at = from->at;
    inner->end = from->at + length;
    from->at += length;
    return 0;
}

/* The next field: 1, 0 at the end, -1 when malformed. */
static int next_field(reader *from, field *out) {
    if (from->at >= from->end) return 0;
    uint64_t key;
    if (read_varint(from, &key) != 0) return -1;
    out->tag = (int)(key >> 3 > 1 << 20 ? 1 << 20 : key >> 3);
    out->kind = (int)(key & 7);
    switch (out->kind) {
    case kind_varint: return read_varint(from, &out->number) == 0 ? 1 : -1;
    case kind_fixed64:
        if (from->end - from->at < 8) return -1;
        out->number = 0;
        for (int index = 0; index < 8; index++) out->number |= (uint64_t)from->at[index] << (8 * index);
        from->at += 8;
        return 1;
    case kind_bytes: return read_counted(from, &out->bytes) == 0 ? 1 : -1;
    default: return -1;
    }
}

size_t cjw_decimal(long long number, char *out) {
    char digits[24];
    size_t count = 0, at = 0;
    unsigned long long rest = number < 0 ? 0ULL - (unsigned long long)number : (unsigned long long)number;
    do {
        digits[count++] = (char)('0' + rest % 10);
        rest /= 10;
    } while (rest > 0);
    if (number < 0) out[at++] = '-';
    while (count > 0) out[at++] = digits[--count];
    return at;
}

static int64_t zigzag(uint64_t raw) { return (int64_t)(raw >> 1) ^ -(int64_t)(raw & 1); }

/* A reply's header: its payload, or the failure's message. */
static int read_header(const unsigned char *body, size_t length, const char *verb, reader *payload,
                       const unsigned char **message, size_t *message_length) {
    reader frame = {body, body + length};
    field item;
    int64_t version = 0;
    int has_verb = 0, has_failure = 0, status;
    reader failure = {body, body};
    payload->at = payload->end = body;
    while ((status = next_field(&frame, &item)) == 1) {
        if (item.tag == 1 && item.kind == kind_varint) version = zigzag(item.number);
        else if (item.tag == 2 && item.kind == kind_bytes)
            has_verb = (size_t)(item.bytes.end - item.bytes.at) == cjs_strlen(verb) &&
                       cjs_memcmp(item.bytes.at, verb, cjs_strlen(verb)) == 0;
        else if (item.tag == 3 && item.kind == kind_bytes) *payload = item.bytes;
        else if (item.tag == 4 && item.kind == kind_bytes) {
            has_failure = 1;
            failure = item.bytes;
        } else if (item.tag <= 4) return CJW_MALFORMED;
    }
    if (status < 0 || version < oldest_version) return CJW_MALFORMED;
    if (has_failure) {
        *message = (const unsigned char *)"";
        *message_length = 0;
        while ((status = next_field(&failure, &item)) == 1) {
            if (item.tag == 2 && item.kind == kind_bytes) {
                *message = item.bytes.at;
                *message_length = (size_t)(item.bytes.end - item.bytes.at);
            }
        }
        return status < 0 ? CJW_MALFORMED : CJW_REFUSED;
    }
    return has_verb ? CJW_OK : CJW_MALFORMED;
}

/* MARK: - The table */

/* The columns (JobFormatter.tableColumns) and the cells of a row, in their order. */
static const char *const columns[] = {"Id", "Name", "Type", "State", "HasMoreData", "Location", "Command"};
enum { column_count = 7 };

typedef struct {
    const unsigned char *text[column_count];
    size_t width[column_count];
    char id[24];
    long long number;
} row;

int cjw_is_printable_ascii(const unsigned char *text, size_t length) {
    for (size_t index = 0; index < length; index++)
        if (text[index] < 0x20 || text[index] >= 0x7F) return 0;
    return 1;
}

static void set_cell(row *into, int column, reader text) {
    into->text[column] = text.at;
    into->width[column] = (size_t)(text.end - text.at);
}

/* A record's row; CJW_OTHER when a cell is not printable ASCII or the row is another computer's
   (unless `as_is`: then the cells are taken as they are). */
static int read_row(reader record, row *into, int as_is) {
    static const unsigned char falseText[] = "False", trueText[] = "True";
    field item;
    int status;
    reader empty = {record.at, record.at};
    for (int column = 0; column < column_count; column++) set_cell(into, column, empty);
    int64_t id = 0;
    uint64_t more = 0;
    while ((status = next_field(&record, &item)) == 1) {
        int column = -1;
        switch (item.tag) {
        case 1:
            if (item.kind != kind_varint) return CJW_MALFORMED;
            id = zigzag(item.number);
            continue;
        case 4: column = 1; break;
        case 6: column = 2; break;
        case 7: column = 3; break;
        case 8:
            if (item.kind != kind_varint) return CJW_MALFORMED;
            more = item.number;
            continue;
        case 9: column = 5; break;
        case 10: column = 6; break;
        case 18:
            if (as_is) continue;
            return CJW_OTHER;
        default: continue;
        }
        if (item.kind != kind_bytes) return CJW_MALFORMED;
        if (!as_is && !cjw_is_printable_ascii(item.bytes.at, (size_t)(item.bytes.end - item.bytes.at)))
            return CJW_OTHER;
        set_cell(into, column, item.bytes);
    }
    if (status < 0) return CJW_MALFORMED;
    into->number = id;
    size_t at = cjw_decimal(id, into->id);
    into->text[0] = (const unsigned char *)into->id;
    into->width[0] = at;
    into->text[4] = more ? trueText : falseText;
    into->width[4] = more ? 4 : 5;
    return CJW_OK;
}

static void put_row(cjw_buffer *out, const unsigned char *const *text, const size_t *width, const size_t *widths) {
    size_t start = out->count;
    for (int column = 0; column < column_count; column++) {
        put(out, text[column], width[column]);
        if (column == column_count - 1) break;
        for (size_t pad = width[column]; pad < widths[column] + 2; pad++) put_byte(out, ' ');
    }
    while (!out->failed && out->count > start && out->bytes[out->count - 1] == ' ') out->count--;
    put_byte(out, '\n');
}

/* The Ids of a timed-out wait's jobs, each ending in a NUL byte. */
static int read_ids(reader jobs, cjw_buffer *ids) {
    reader record;
    while (jobs.at < jobs.end) {
        read_counted(&jobs, &record);
        field item;
        int status;
        while ((status = next_field(&record, &item)) == 1) {
            if (item.tag != 1 || item.kind != kind_varint) continue;
            char text[24];
            size_t length = cjw_decimal(zigzag(item.number), text);
            text[length] = 0;
            put(ids, text, length + 1);
        }
        if (status < 0) return CJW_MALFORMED;
    }
    return ids->failed ? CJW_OTHER : CJW_TIMED_OUT;
}

/* The header, its dashes and the rows, each column as wide as its widest cell. */
static void put_table(cjw_buffer *table, const row *rows, size_t count, const size_t *widths) {
    const unsigned char *names[column_count];
    const unsigned char *dashes[column_count];
    size_t name_widths[column_count];
    static const unsigned char line[] = "-----------";
    for (int column = 0; column < column_count; column++) {
        names[column] = (const unsigned char *)columns[column];
        dashes[column] = line;
        name_widths[column] = cjs_strlen(columns[column]);
    }
    put_row(table, names, name_widths, widths);
    put_row(table, dashes, name_widths, widths);
    for (size_t index = 0; index < count; index++) put_row(table, rows[index].text, rows[index].width, widths);
}

int cjw_read_start_reply(const unsigned char *body, size_t length, long long *id, cjw_buffer *table,
                         const unsigned char **message, size_t *message_length) {
    reader payload;
    int status = read_header(body, length, "start", &payload, message, message_length);
    if (status != CJW_OK) return status;
    field item;
    reader record = {payload.at, payload.at};
    while ((status = next_field(&payload, &item)) == 1) {
        if (item.tag == 1 && item.kind == kind_bytes) record = item.bytes;
    }
    row only;
    if (status < 0 || read_row(record, &only, 1) != CJW_OK) return CJW_MALFORMED;
    *id = only.number;
    if (*id <= 0) return CJW_MALFORMED;
    if (!table) return CJW_OK;
    size_t widths[column_count];
    for (int column = 0; column < column_count; column++) {
        widths[column] = cjs_strlen(columns[column]);
        if (only.width[column] > widths[column]) widths[column] = only.width[column];
    }
    table->count = 0;
    put_table(table, &only, 1, widths);
    return table->failed ? CJW_OTHER : CJW_OK;
}

int cjw_read_jobs_reply(const unsigned char *body, size_t length, const char *verb, cjw_buffer *table,
                        const unsigned char **message, size_t *message_length) {
    reader payload;
    int status = read_header(body, length, verb, &payload, message, message_length);
    if (status != CJW_OK) return status;
    field item;
    reader jobs = {payload.at, payload.at};
    int timed_out = 0;
    while ((status = next_field(&payload, &item)) == 1) {
        if (item.tag == 1 && item.kind == kind_bytes) jobs = item.bytes;
        else if (item.tag == 2 && (item.kind != kind_bytes || item.bytes.at < item.bytes.end))
            return CJW_OTHER; /* problems */
        else if (item.tag == 3 && item.kind == kind_varint) timed_out = item.number != 0;
    }
    if (status < 0) return CJW_MALFORMED;
    size_t count = 0;
    for (reader scout = jobs, record; scout.at < scout.end; count++)
        if (read_counted(&scout, &record) != 0) return CJW_MALFORMED;
    table->count = 0;
    if (timed_out) return read_ids(jobs, table);
    if (count == 0) return CJW_OK;
    row *rows = cjs_allocate(count * sizeof(row));
    if (!rows) return CJW_OTHER;
    size_t widths[column_count];
    for (int column = 0; column < column_count; column++) widths[column] = cjs_strlen(columns[column]);
    reader records = jobs, record;
    for (size_t index = 0; index < count; index++) {
        read_counted(&records, &record);
        status = read_row(record, &rows[index], 0);
        if (status != CJW_OK) {
            cjs_release(rows);
            return status;
        }
        for (int column = 0; column < column_count; column++)
            if (rows[index].width[column] > widths[column]) widths[column] = rows[index].width[column];
    }
    put_table(table, rows, count, widths);
    cjs_release(rows);
    return table->failed ? CJW_OTHER : CJW_OK;
}

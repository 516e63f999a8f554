// libpq (PostgreSQL's client library) headers for Swift. Values libpq defines as macros get a
// prefixed static inline wrapper here (Swift cannot import character-literal macros reliably), each
// with its reason.
#ifndef COORDD_CPOSTGRESQL_SHIM_H
#define COORDD_CPOSTGRESQL_SHIM_H

#include <libpq-fe.h>

// PG_DIAG_SQLSTATE is a character-literal macro ('C'): the five-character SQLSTATE of an error
// result, by which errors are classified (transient or not), never by message text.
static inline const char *coordd_PQresultSQLState(const PGresult *res) {
    return PQresultErrorField(res, PG_DIAG_SQLSTATE);
}

// PG_DIAG_MESSAGE_PRIMARY ('M'): the error's one-line primary message, without the "ERROR:" prefix
// and the detail lines PQresultErrorMessage adds.
static inline const char *coordd_PQresultPrimaryMessage(const PGresult *res) {
    return PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
}

#endif

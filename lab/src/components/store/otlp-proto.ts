/**
 * The subset of opentelemetry-proto (v1) the store reads, written from the protocol's field
 * numbers: the export requests for traces and logs, their responses, and google.rpc.Status for
 * errors. Fields we do not read are simply skipped by the decoder, as proto3 requires.
 */
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message InstrumentationScope { string name = 1; string version = 2; }

message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; int32 kind = 6;
  fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
  repeated Event events = 11; repeated Link links = 13; Status status = 15;
}
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Link { bytes trace_id = 1; bytes span_id = 2; repeated KeyValue attributes = 4; }
message Status { string message = 2; int32 code = 3; }

message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
message LogRecord {
  fixed64 time_unix_nano = 1; int32 severity_number = 2; string severity_text = 3; AnyValue body = 5;
  repeated KeyValue attributes = 6; bytes trace_id = 9; bytes span_id = 10; fixed64 observed_time_unix_nano = 11;
}

message PartialSuccess { int64 rejected = 1; string error_message = 2; }
message ExportResponse { PartialSuccess partial_success = 1; }
message RpcStatus { int32 code = 1; string message = 2; }
`;

const root = protobuf.parse(PROTO, { keepCase: false }).root;
const type = (name: string) => root.lookupType(`otlp.${name}`);
export const TRACES_REQUEST = type('ExportTraceServiceRequest');
export const LOGS_REQUEST = type('ExportLogsServiceRequest');
const EXPORT_RESPONSE = type('ExportResponse');
const RPC_STATUS = type('RpcStatus');

// proto3 strings must be valid UTF-8 (the collector refuses them otherwise); protobufjs would
// silently substitute U+FFFD, so strings are read with a decoder that throws instead.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
class StrictReader extends protobuf.Reader {
  string(): string {
    return strictUtf8.decode(this.bytes());
  }
}

/**
 * Decodes an export request into the shape of OTLP's JSON mapping (camelCase, 64-bit integers
 * as strings), except that ids stay base64 as protobufjs renders bytes; the caller knows.
 */
export function decodeProtobuf(message: protobuf.Type, body: Buffer): unknown {
  const decoded = message.decode(new StrictReader(new Uint8Array(body.buffer, body.byteOffset, body.length)));
  return message.toObject(decoded, { longs: String, enums: Number, bytes: String, defaults: false });
}

/** OTLP's success answer; the same message shape serves traces and logs (field 1, then 1 and 2). */
export function encodeExportResponse(rejected: number, errorMessage: string): Buffer {
  const partialSuccess = rejected > 0 ? { rejected, errorMessage } : undefined;
  return Buffer.from(EXPORT_RESPONSE.encode(EXPORT_RESPONSE.create({ partialSuccess })).finish());
}

export function encodeRpcStatus(code: number, message: string): Buffer {
  return Buffer.from(RPC_STATUS.encode(RPC_STATUS.create({ code, message })).finish());
}

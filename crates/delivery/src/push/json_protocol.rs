//! PutMetricData in CloudWatch's JSON protocol instead of the SDK's CBOR.
//!
//! `aws-sdk-cloudwatch` speaks only Smithy RPC v2 CBOR (`POST /service/
//! GraniteServiceVersion20100801/operation/PutMetricData`), while CloudWatch accepts the
//! Query, JSON and CBOR protocols (CloudWatch User Guide, "CloudWatch protocols FAQ"), and
//! the local endpoints people test with — moto (getmoto/moto#9195: "no current (or
//! planned) support … for the RPC v2 CBOR protocol"), LocalStack's moto-backed provider —
//! answer only Query and JSON. botocore itself falls back to JSON without its CBOR
//! library. So this interceptor replaces the serialized request with its JSON form (the
//! awsJson1_0 `X-Amz-Target` request, `x-amzn-query-mode: true` as botocore sends it)
//! before it is signed: one request that both AWS and moto understand. The success
//! response has no members, so the SDK's CBOR response parsing has nothing to read; an
//! error response is classified by its HTTP status (the code is not parsed from JSON).

use aws_sdk_cloudwatch::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_cloudwatch::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cloudwatch::error::BoxError;
use aws_smithy_types::body::SdkBody;
use serde_json::{json, Value};

use crate::metrics::MetricDatum;

/// The JSON protocol's target for PutMetricData.
const TARGET: &str = "GraniteServiceVersion20100801.PutMetricData";

/// PutMetricData's JSON body: timestamps in epoch seconds, as awsJson1_0 writes them.
pub fn body(namespace: &str, datums: &[MetricDatum]) -> String {
    let data: Vec<Value> = datums
        .iter()
        .map(|d| {
            // The entry `--metrics FILE` writes, with the timestamp as the protocol has it.
            #[allow(clippy::cast_precision_loss)]
            let seconds = d.timestamp.timestamp_millis() as f64 / 1000.0;
            let mut entry = d.to_json();
            entry["Timestamp"] = json!(seconds);
            entry
        })
        .collect();
    json!({"Namespace": namespace, "MetricData": data}).to_string()
}

/// Swaps one PutMetricData request for its JSON form (see the module doc).
#[derive(Debug)]
pub struct JsonPutMetricData {
    /// The request body, from [`body`].
    pub body: String,
}

impl Intercept for JsonPutMetricData {
    fn name(&self) -> &'static str {
        "ikesim::JsonPutMetricData"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let uri = request.uri().to_owned();
        let root = match uri.find("/service/") {
            Some(at) => format!("{}/", &uri[..at]),
            None => uri,
        };
        request.set_uri(root)?;
        let headers = request.headers_mut();
        for name in ["smithy-protocol", "accept", "content-encoding"] {
            headers.remove(name);
        }
        headers.insert("content-type", "application/x-amz-json-1.0");
        headers.insert("x-amz-target", TARGET);
        headers.insert("x-amzn-query-mode", "true");
        headers.insert("content-length", self.body.len().to_string());
        *request.body_mut() = SdkBody::from(self.body.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_body_has_aws_vpn_dimensions_and_epoch_seconds() {
        let d = crate::metrics::tests::tunnel_up_at("2026-12-03T12:05:00Z");
        let v: Value = serde_json::from_str(&body("ikesim/VPN", &[d])).unwrap();
        assert_eq!(v["Namespace"], "ikesim/VPN");
        let m = &v["MetricData"][0];
        assert_eq!(m["MetricName"], "TunnelState");
        assert_eq!(m["Timestamp"], 1_796_299_500.0);
        assert_eq!(m["Dimensions"][1]["Value"], "127.0.1.1");
        assert_eq!(m["Unit"], "None");
    }
}

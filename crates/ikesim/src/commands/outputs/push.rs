//! The pusher (feature `cloudwatch`, the default), or, without it, a `--cloudwatch` that
//! says how to get it.

#[cfg(not(feature = "cloudwatch"))]
pub use none::{finish, start, Pusher};
#[cfg(feature = "cloudwatch")]
pub use sdk::{finish, start, Pusher};

#[cfg(feature = "cloudwatch")]
mod sdk {
    use delivery::metrics::{MetricDatum, PUSH_NAMESPACE};
    use delivery::push::PushConfig;
    pub use delivery::push::Pusher;

    use crate::commands::outputs::CloudWatchArgs;
    use crate::commands::Failure;

    pub fn start(args: &CloudWatchArgs, namespace: Option<&str>) -> Result<Pusher, Failure> {
        Pusher::start(PushConfig {
            region: args.region.clone(),
            endpoint_url: args.endpoint_url.clone(),
            metrics_namespace: namespace.unwrap_or(PUSH_NAMESPACE).to_owned(),
        })
        .map_err(|e| Failure::BadInput(format!("--cloudwatch: {e}")))
    }

    pub fn finish(pusher: Pusher, datums: Vec<MetricDatum>) -> Result<(), Failure> {
        pusher.metrics(datums);
        let report = pusher.finish();
        eprintln!("ikesim: {report}");
        if !report.complete() {
            return Err(Failure::Runtime(format!(
                "not everything was delivered to CloudWatch: {} records, {} metric datapoints",
                report.undelivered, report.metric_datums_undelivered
            )));
        }
        Ok(())
    }
}

#[cfg(not(feature = "cloudwatch"))]
mod none {
    use delivery::metrics::MetricDatum;

    use crate::commands::outputs::CloudWatchArgs;
    use crate::commands::Failure;

    /// Never made: there is no pusher in this build.
    pub enum Pusher {}

    impl Pusher {
        pub fn open(&self, _group: &str, _stream: &str) {
            match *self {}
        }
        pub fn send(&self, _group: &str, _stream: &str, _event: delivery::batch::LogEvent) {
            match *self {}
        }
        pub fn flush(&self) {
            match *self {}
        }
        pub fn metrics(&self, _datums: Vec<MetricDatum>) {
            match *self {}
        }
    }

    pub fn start(_args: &CloudWatchArgs, _namespace: Option<&str>) -> Result<Pusher, Failure> {
        Err(Failure::BadInput(
            "--cloudwatch: this ikesim was built without the `cloudwatch` feature; rebuild \
             with default features (cargo build --release)"
                .to_owned(),
        ))
    }

    pub fn finish(pusher: Pusher, _datums: Vec<MetricDatum>) -> Result<(), Failure> {
        match pusher {}
    }
}

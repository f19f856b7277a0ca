//! CloudWatch Logs log group names and ARNs, as the tunnel options `LogGroupArn` and
//! `BgpLogGroupArn` name the group a tunnel's records go to (EC2 API reference,
//! `CloudWatchLogOptionsSpecification`; reference §1).

use std::fmt;
use std::str::FromStr;

/// The shape a log group ARN has, quoted by every ARN error.
const ARN_SHAPE: &str = "arn:<partition>:logs:<region>:<12-digit account id>:log-group:<name>, \
                         e.g. arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/ikesim";

/// The longest log group name CloudWatch Logs accepts (CreateLogGroup, `logGroupName`).
const MAX_NAME_LEN: usize = 512;

/// A log group name or ARN that CloudWatch Logs would refuse; each variant says what was
/// wrong and what is expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogGroupError {
    /// The name breaks CloudWatch Logs' naming rule.
    #[error(
        "invalid log group name {name:?}: {problem}; CloudWatch Logs allows 1 to 512 letters, \
         digits and `.` `_` `/` `#` `-`, e.g. /aws/vendedlogs/ikesim"
    )]
    Name {
        /// The name as given.
        name: String,
        /// Which part of the rule it breaks.
        problem: String,
    },
    /// The text is not the ARN of a CloudWatch Logs log group.
    #[error("invalid log group ARN {arn:?}: {problem}; expected {ARN_SHAPE}")]
    Arn {
        /// The ARN as given.
        arn: String,
        /// What is wrong with it, in words.
        problem: String,
    },
}

/// CloudWatch Logs' rule for log group names (CreateLogGroup: 1–512 characters of
/// `[A-Za-z0-9._/#-]`), checked before ikesim creates or pushes to a group.
pub fn validate_log_group_name(name: &str) -> Result<(), LogGroupError> {
    let problem = if name.is_empty() {
        Some("it is empty".to_owned())
    } else if name.chars().count() > MAX_NAME_LEN {
        Some(format!("it has {} characters", name.chars().count()))
    } else {
        name.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '#' | '-')))
            .map(|c| format!("`{c}` is not allowed"))
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(LogGroupError::Name {
            name: name.to_owned(),
            problem,
        }),
    }
}

/// The ARN of a CloudWatch Logs log group:
/// `arn:<partition>:logs:<region>:<account>:log-group:<name>` (AWS General Reference, ARN
/// format; CloudWatch Logs' resource types). Parsing also accepts the trailing `:*` that
/// IAM policies and the CloudWatch console show; [`Display`](fmt::Display) writes the
/// canonical form without it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LogGroupArn {
    /// `aws`, `aws-cn`, `aws-us-gov`, … (always `aws` or `aws-` followed by more).
    pub partition: String,
    /// The group's region, e.g. `us-east-1`.
    pub region: String,
    /// The owning account: 12 digits. Subscription deliveries carry it as `owner`.
    pub account: String,
    /// The log group name, checked by [`validate_log_group_name`].
    pub name: String,
}

impl LogGroupArn {
    fn error(arn: &str, problem: impl Into<String>) -> LogGroupError {
        LogGroupError::Arn {
            arn: arn.to_owned(),
            problem: problem.into(),
        }
    }
}

/// `aws`, or `aws-` and lowercase letters/digits/hyphens (`aws-cn`, `aws-us-gov`,
/// `aws-iso-b`, …): AWS's partitions, including ones added later.
fn is_partition(s: &str) -> bool {
    s == "aws"
        || s.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty()
                && !rest.ends_with('-')
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Lowercase words and a number joined by hyphens: `us-east-1`, `cn-north-1`,
/// `us-gov-west-1`, `eu-isoe-west-1`.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 2
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

impl FromStr for LogGroupArn {
    type Err = LogGroupError;

    fn from_str(arn: &str) -> Result<Self, Self::Err> {
        let err = |problem: String| LogGroupArn::error(arn, problem);
        let Some(rest) = arn.strip_prefix("arn:") else {
            return Err(err("it does not start with `arn:`".into()));
        };
        // A log group name has no `:`, so the fields split cleanly; anything after the name
        // is the `:*` suffix, a log stream, or an error.
        let mut fields = rest.splitn(6, ':');
        let partition = fields.next().unwrap_or_default();
        let service = fields.next().unwrap_or_default();
        let region = fields.next().unwrap_or_default();
        let account = fields.next().unwrap_or_default();
        let resource_type = fields.next();
        let resource = fields.next();
        if !is_partition(partition) {
            return Err(err(format!(
                "`{partition}` is not an AWS partition (aws, aws-cn, aws-us-gov, …)"
            )));
        }
        if service != "logs" {
            return Err(err(format!(
                "it names the service `{service}`, not CloudWatch Logs (`logs`)"
            )));
        }
        let (Some(resource_type), Some(resource)) = (resource_type, resource) else {
            return Err(err("it has too few `:`-separated fields".into()));
        };
        if !is_region(region) {
            return Err(err(format!(
                "`{region}` is not a region such as us-east-1 (a log group ARN always names one)"
            )));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(format!("the account id `{account}` is not 12 digits")));
        }
        if resource_type != "log-group" {
            return Err(err(format!(
                "`{resource_type}:` is not a log group; a log group ARN names `log-group:` after \
                 the account id"
            )));
        }
        let (name, suffix) = match resource.split_once(':') {
            Some((name, suffix)) => (name, Some(suffix)),
            None => (resource, None),
        };
        match suffix {
            None | Some("*") => {}
            Some(s) if s == "log-stream" || s.starts_with("log-stream:") => {
                return Err(err(format!(
                    "it is a log stream's ARN; give its log group's: arn:{partition}:logs:\
                     {region}:{account}:log-group:{name}"
                )));
            }
            Some(s) => {
                return Err(err(format!(
                    "`:{s}` after the log group name; only `:*` may follow it"
                )));
            }
        }
        if let Err(LogGroupError::Name { problem, .. }) = validate_log_group_name(name) {
            return Err(err(format!(
                "the log group name {name:?} is invalid: {problem} (CloudWatch Logs allows \
                 1 to 512 letters, digits and `.` `_` `/` `#` `-`)"
            )));
        }
        Ok(LogGroupArn {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for LogGroupArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:logs:{}:{}:log-group:{}",
            self.partition, self.region, self.account, self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arn(s: &str) -> LogGroupArn {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn problem(s: &str) -> String {
        let e = s.parse::<LogGroupArn>().unwrap_err();
        let message = e.to_string();
        assert!(message.contains(ARN_SHAPE), "{message}");
        assert!(message.contains(&format!("{s:?}")), "{message}");
        match e {
            LogGroupError::Arn { problem, .. } => problem,
            LogGroupError::Name { .. } => panic!("{s}: a name error from an ARN"),
        }
    }

    #[test]
    fn log_group_arns_parse_into_their_parts() {
        let a = arn("arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/ikesim");
        assert_eq!(
            a,
            LogGroupArn {
                partition: "aws".into(),
                region: "us-east-1".into(),
                account: "123456789012".into(),
                name: "/aws/vendedlogs/ikesim".into(),
            }
        );
        assert_eq!(
            a.to_string(),
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/ikesim"
        );
        // The console's and IAM's form, with `:*`, means the same group.
        let star = arn("arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/ikesim:*");
        assert_eq!(star, a);
        assert_eq!(star.to_string(), a.to_string());
        for other in [
            "arn:aws-cn:logs:cn-north-1:000000000000:log-group:vpn",
            "arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:a.b_c/d#e-f",
            "arn:aws-iso-b:logs:us-isob-east-1:123456789012:log-group:x",
        ] {
            assert_eq!(arn(other).to_string(), other);
        }
        let long = "a".repeat(512);
        assert_eq!(
            arn(&format!(
                "arn:aws:logs:eu-west-1:123456789012:log-group:{long}"
            ))
            .name,
            long
        );
    }

    #[test]
    fn anything_else_is_refused_saying_what_is_wrong() {
        let cases = [
            ("", "does not start with `arn:`"),
            ("/aws/vendedlogs/ikesim", "does not start with `arn:`"),
            ("arn:aws:logs:us-east-1:123456789012", "too few"),
            ("arn:aws:logs:us-east-1:123456789012:log-group", "too few"),
            (
                "arn:amazon:logs:us-east-1:123456789012:log-group:g",
                "not an AWS partition",
            ),
            (
                "arn:aws-:logs:us-east-1:123456789012:log-group:g",
                "not an AWS partition",
            ),
            (
                "arn:aws:s3:us-east-1:123456789012:log-group:g",
                "service `s3`",
            ),
            ("arn:aws:s3:::my-bucket/logs", "service `s3`"),
            ("arn:aws:logs::123456789012:log-group:g", "not a region"),
            (
                "arn:aws:logs:US-EAST-1:123456789012:log-group:g",
                "not a region",
            ),
            (
                "arn:aws:logs:useast:123456789012:log-group:g",
                "not a region",
            ),
            (
                "arn:aws:logs:us-east-1:12345678901:log-group:g",
                "not 12 digits",
            ),
            (
                "arn:aws:logs:us-east-1:1234567890123:log-group:g",
                "not 12 digits",
            ),
            (
                "arn:aws:logs:us-east-1:12345678901a:log-group:g",
                "not 12 digits",
            ),
            (
                "arn:aws:logs:us-east-1:123456789012:destination:d",
                "`destination:`",
            ),
            (
                "arn:aws:logs:us-east-1:123456789012:loggroup:g",
                "`loggroup:`",
            ),
            (
                "arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:vpn-1234abcd-1.2.3.4",
                "log stream's ARN; give its log group's: \
                 arn:aws:logs:us-east-1:123456789012:log-group:g",
            ),
            (
                "arn:aws:logs:us-east-1:123456789012:log-group:g:",
                "`:` after",
            ),
            (
                "arn:aws:logs:us-east-1:123456789012:log-group:g:**",
                "only `:*`",
            ),
            ("arn:aws:logs:us-east-1:123456789012:log-group:", "is empty"),
            (
                "arn:aws:logs:us-east-1:123456789012:log-group::*",
                "is empty",
            ),
            (
                "arn:aws:logs:us-east-1:123456789012:log-group:my group",
                "` ` is not allowed",
            ),
            (
                "arn:aws:logs:us-east-1:123456789012:log-group:grüppe",
                "`ü` is not allowed",
            ),
        ];
        for (s, expected) in cases {
            let p = problem(s);
            assert!(p.contains(expected), "{s}: {p}");
        }
        let long = format!(
            "arn:aws:logs:us-east-1:123456789012:log-group:{}",
            "a".repeat(513)
        );
        assert!(problem(&long).contains("513 characters"));
    }

    #[test]
    fn log_group_names_follow_cloudwatch_logs_rule() {
        for good in [
            "/aws/vendedlogs/ikesim",
            "ikesim",
            "a",
            "A.b_c/d#e-9",
            &"x".repeat(512),
        ] {
            assert_eq!(validate_log_group_name(good), Ok(()), "{good}");
        }
        for (bad, problem) in [
            ("", "it is empty"),
            ("has space", "` ` is not allowed"),
            ("colon:", "`:` is not allowed"),
            ("star*", "`*` is not allowed"),
            ("tab\t", "`\t` is not allowed"),
            ("ünï", "`ü` is not allowed"),
        ] {
            let e = validate_log_group_name(bad).unwrap_err();
            assert_eq!(
                e,
                LogGroupError::Name {
                    name: bad.to_owned(),
                    problem: problem.to_owned()
                }
            );
            let message = e.to_string();
            assert!(message.contains("1 to 512"), "{message}");
            assert!(message.contains("/aws/vendedlogs/ikesim"), "{message}");
        }
        let e = validate_log_group_name(&"x".repeat(513)).unwrap_err();
        assert!(e.to_string().contains("it has 513 characters"), "{e}");
    }
}

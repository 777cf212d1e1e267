//! The one AWS configuration loader: region from `AWS_REGION` or
//! `AWS_DEFAULT_REGION` (default us-east-1), `AWS_ENDPOINT_URL` honoured by
//! the SDK, and LocalStack's `test` credentials when an endpoint is set and
//! no credentials are. Every AWS client (SQS here, CloudWatch Logs in the
//! CLI) starts from it, so LocalStack and AWS differ by environment only.

use aws_config::{BehaviorVersion, ConfigLoader, Region};

/// The loader, with `endpoint` instead of `AWS_ENDPOINT_URL` when given.
pub fn loader(endpoint: Option<&str>) -> ConfigLoader {
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".into());
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region));
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    let custom_endpoint = endpoint.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some();
    if custom_endpoint && std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "localstack",
        ));
    }
    loader
}

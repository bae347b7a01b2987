output "function_urls" {
  description = "URL of every function, by name."
  value       = { for name, function in google_cloudfunctions2_function.function : name => function.service_config[0].uri }
}

output "webhooks_url" {
  description = "URL the vendors' webhooks point at."
  value       = google_cloudfunctions2_function.function["webhooks"].service_config[0].uri
}

output "status_url" {
  description = "URL of the status page (set it as CONTROLROOM_STATUS_URL in function_environment)."
  value       = google_cloudfunctions2_function.function["status"].service_config[0].uri
}

output "function_service_accounts" {
  description = "Runtime service account e-mail of every function, by name."
  value       = { for name, account in google_service_account.function : name => account.email }
}

output "function_source_objects" {
  description = "Zip object (in the source bucket) each function was built from, by name."
  value       = { for name, bundle in google_storage_bucket_object.bundle : name => bundle.name }
}

output "source_bucket_name" {
  description = "Bucket Terraform uploads the functions' zips to."
  value       = google_storage_bucket.source.name
}

output "artifacts_bucket_name" {
  description = "Bucket for run artifacts."
  value       = google_storage_bucket.artifacts.name
}

output "topic_names" {
  description = "Pub/Sub topic names, by topology name."
  value       = { for name, topic in google_pubsub_topic.topic : name => topic.name }
}

output "subscription_names" {
  description = "Pub/Sub subscription names, by topology name."
  value       = { for name, subscription in google_pubsub_subscription.subscription : name => subscription.name }
}

output "secret_ids" {
  description = "Secret Manager secrets to add versions to (then list them in populated_secrets)."
  value       = sort([for secret in google_secret_manager_secret.secret : secret.secret_id])
}

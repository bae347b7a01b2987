# Every function of topology.json. The Pub/Sub ones are deployed as HTTP functions (no
# event_trigger) and fed by the topology's own push subscriptions (pubsub.tf), so the ack
# deadline, backoff and dead-letter policy are ours rather than an Eventarc-managed
# subscription's. See README.md.
resource "google_cloudfunctions2_function" "function" {
  for_each = local.functions

  name        = each.key
  location    = var.region
  description = "controlroom ${each.value.source}:${each.value.entry_point} (${each.value.trigger})"
  labels      = local.labels

  build_config {
    runtime         = var.python_runtime
    entry_point     = each.value.entry_point
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.bundle[each.key].name
      }
    }
  }

  service_config {
    available_memory = "${each.value.memory_mb}M"
    # Serving more than one request at a time needs a whole vCPU.
    available_cpu                    = each.value.concurrency > 1 ? "1" : null
    timeout_seconds                  = each.value.timeout_s
    min_instance_count               = each.value.min_instances
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = each.value.concurrency
    ingress_settings                 = each.value.trigger == "http" ? "ALLOW_ALL" : var.worker_ingress
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.function[each.key].email

    environment_variables = merge(var.function_environment, {
      GOOGLE_CLOUD_PROJECT        = var.project_id
      LOG_EXECUTION_ID            = "true"
      CONTROLROOM_ARTIFACT_STORE  = "gcs"
      CONTROLROOM_ARTIFACT_BUCKET = google_storage_bucket.artifacts.name
      CONTROLROOM_TRACE_EXPORTER  = "gcp"
    })

    dynamic "secret_environment_variables" {
      for_each = local.function_mounted_secrets[each.key]
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  depends_on = [
    google_project_service.api,
    google_project_iam_member.function_datastore,
    google_secret_manager_secret_iam_member.function_secret_accessor,
    google_project_iam_member.build,
    google_storage_bucket_iam_member.build_source_reader,
  ]
}

resource "google_cloud_scheduler_job" "schedule" {
  for_each = local.schedules

  name        = each.key
  region      = var.region
  description = each.value.description
  schedule    = each.value.cron
  time_zone   = each.value.time_zone

  retry_config {
    retry_count          = var.scheduler_retry_count
    min_backoff_duration = "5s"
    max_backoff_duration = "300s"
    max_doublings        = 3
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic[each.value.topic].id
    data       = base64encode(jsonencode(each.value.payload))
    attributes = each.value.attributes
  }

  depends_on = [google_project_service.api]
}

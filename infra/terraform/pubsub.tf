resource "google_pubsub_topic" "topic" {
  for_each = local.topics

  name   = each.key
  labels = local.labels

  depends_on = [google_project_service.api]
}

resource "google_pubsub_subscription" "subscription" {
  for_each = local.subscriptions

  name                       = each.key
  topic                      = google_pubsub_topic.topic[each.value.topic].id
  labels                     = local.labels
  ack_deadline_seconds       = each.value.ack_deadline_s
  message_retention_duration = "${each.value.retain_days * 86400}s"
  filter                     = each.value.filter

  # Never delete a subscription for inactivity.
  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "${each.value.retry.minimum_backoff_s}s"
    maximum_backoff = "${each.value.retry.maximum_backoff_s}s"
  }

  dynamic "dead_letter_policy" {
    for_each = each.value.dead_letter_topic == null ? [] : [each.value.dead_letter_topic]
    content {
      dead_letter_topic     = google_pubsub_topic.topic[dead_letter_policy.value].id
      max_delivery_attempts = each.value.max_delivery_attempts
    }
  }

  # The function is HTTP-triggered; this subscription (with the retry and dead-letter policy
  # above) feeds it, with an OIDC token of the push service account.
  dynamic "push_config" {
    for_each = each.value.push_function == null ? [] : [each.value.push_function]
    content {
      push_endpoint = google_cloudfunctions2_function.function[push_config.value].service_config[0].uri

      oidc_token {
        service_account_email = google_service_account.pubsub_push.email
        audience              = google_cloudfunctions2_function.function[push_config.value].service_config[0].uri
      }
    }
  }

  depends_on = [
    google_pubsub_topic_iam_member.dead_letter_publisher,
    google_cloud_run_v2_service_iam_member.push_invoker,
  ]
}

# Dead-lettering is done by the Pub/Sub service agent: it must publish to each dead-letter
# topic and acknowledge (subscribe) on each subscription that forwards there.
locals {
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.dead_letter_topics

  topic  = google_pubsub_topic.topic[each.key].name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = local.dead_letter_subscriptions

  subscription = google_pubsub_subscription.subscription[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

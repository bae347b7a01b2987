locals {
  # Composite indexes of the queries in shared/adapters/firestore_*.py, as listed in
  # shared/adapters/firestore_indexes.py (a test checks the two agree).
  firestore_composite_indexes = {
    runs-status-deadline = {
      collection  = "runs"
      query_scope = "COLLECTION"
      fields = [
        { field_path = "status", order = "ASCENDING" },
        { field_path = "deadline_at", order = "ASCENDING" },
      ]
    }
    runs-workflow-created = {
      collection  = "runs"
      query_scope = "COLLECTION"
      fields = [
        { field_path = "workflow", order = "ASCENDING" },
        { field_path = "created_at", order = "DESCENDING" },
      ]
    }
    runs-status-created = {
      collection  = "runs"
      query_scope = "COLLECTION"
      fields = [
        { field_path = "status", order = "ASCENDING" },
        { field_path = "created_at", order = "DESCENDING" },
      ]
    }
    runs-workflow-status-created = {
      collection  = "runs"
      query_scope = "COLLECTION"
      fields = [
        { field_path = "workflow", order = "ASCENDING" },
        { field_path = "status", order = "ASCENDING" },
        { field_path = "created_at", order = "DESCENDING" },
      ]
    }
    conversations-status-last-message = {
      collection  = "conversations"
      query_scope = "COLLECTION"
      fields = [
        { field_path = "status", order = "ASCENDING" },
        { field_path = "last_message_at", order = "DESCENDING" },
      ]
    }
    tasks-step-task-id = {
      collection  = "tasks"
      query_scope = "COLLECTION"
      fields = [
        { field_path = "step", order = "ASCENDING" },
        { field_path = "task_id", order = "ASCENDING" },
      ]
    }
    tasks-step-status = {
      collection  = "tasks"
      query_scope = "COLLECTION"
      fields = [
        { field_path = "step", order = "ASCENDING" },
        { field_path = "status", order = "ASCENDING" },
      ]
    }
    approvals-status-requested = {
      collection  = "approvals"
      query_scope = "COLLECTION_GROUP"
      fields = [
        { field_path = "status", order = "ASCENDING" },
        { field_path = "requested_at", order = "ASCENDING" },
      ]
    }
    approvals-status-expires = {
      collection  = "approvals"
      query_scope = "COLLECTION_GROUP"
      fields = [
        { field_path = "status", order = "ASCENDING" },
        { field_path = "expires_at", order = "ASCENDING" },
      ]
    }
  }
}

resource "google_firestore_database" "database" {
  name                    = "(default)"
  location_id             = var.firestore_location
  type                    = "FIRESTORE_NATIVE"
  delete_protection_state = var.firestore_delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  # Destroying the stack leaves the data where it is.
  deletion_policy = "ABANDON"

  depends_on = [google_project_service.api]
}

resource "google_firestore_index" "composite" {
  for_each = local.firestore_composite_indexes

  database    = google_firestore_database.database.name
  collection  = each.value.collection
  query_scope = each.value.query_scope

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.field_path
      order      = fields.value.order
    }
  }
}

# The messages of every conversation by time (collection_group("messages") with a range on
# `at`). A one-field index is not a composite index (the API rejects a google_firestore_index
# with one field), so it is a collection-group single-field index; listing indexes here
# replaces the field's defaults, hence the two collection-scope ones are listed as well.
resource "google_firestore_field" "messages_at" {
  database   = google_firestore_database.database.name
  collection = "messages"
  field      = "at"

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "DESCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
}

# find_nearest on kb_chunks.embedding (shared/adapters/firestore_kb.py); its dimension must
# be the embedder's, so it exists only when var.kb_embedding_dimensions is set.
resource "google_firestore_index" "kb_chunks_embedding" {
  count = var.kb_embedding_dimensions > 0 ? 1 : 0

  database    = google_firestore_database.database.name
  collection  = "kb_chunks"
  query_scope = "COLLECTION"

  fields {
    field_path = "embedding"
    vector_config {
      dimension = var.kb_embedding_dimensions
      flat {}
    }
  }
}

# Firestore deletes cached LLM answers once expires_at has passed (shared/llm/cache.py).
resource "google_firestore_field" "llm_cache_expires_at" {
  database   = google_firestore_database.database.name
  collection = "llm_cache"
  field      = "expires_at"

  ttl_config {}

  # Looked up by document id only: no single-field index needed on the TTL field.
  index_config {}
}

# Tracked events are kept 90 days (the window in which a re-sent event is still caught) and
# quota counter shards 2 days (shared/tracking/firestore.py); both carry expire_at. Run
# timelines are also collections named "events" but have no expire_at, so TTL leaves them.
locals {
  # Collection groups whose documents carry expire_at (tracked events, quota shards,
  # platform send slots: shared/adapters/firestore_send_slots.py).
  ttl_collections = ["events", "shards", "slots"]
}

resource "google_firestore_field" "ttl" {
  for_each = toset(local.ttl_collections)

  database   = google_firestore_database.database.name
  collection = each.key
  field      = "expire_at"

  ttl_config {}

  index_config {}
}

# Profiles' maps keyed by event name, item id and day (shared/tracking/firestore.py) are only
# ever read whole, never queried: exempt them from single-field indexing, which would add an
# index entry per key (a profile's keys grow with every new event name, item and day).
locals {
  unindexed_profile_maps = {
    for pair in setproduct(["profiles", "anonymous_profiles"], ["counters", "daily", "items"]) :
    "${pair[0]}-${pair[1]}" => { collection = pair[0], field = pair[1] }
  }
}

resource "google_firestore_field" "profile_maps" {
  for_each = local.unindexed_profile_maps

  database   = google_firestore_database.database.name
  collection = each.value.collection
  field      = each.value.field

  index_config {}
}

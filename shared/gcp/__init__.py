"""What every Firestore adapter of every slice shares: the lazily created client and the
value conversion Firestore needs (`firestore`)."""

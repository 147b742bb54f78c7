{{ label_dimension('target_kind', 'target_kind') }}

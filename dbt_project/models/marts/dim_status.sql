{{ label_dimension('status', 'status') }}

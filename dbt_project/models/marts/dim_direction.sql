{{ label_dimension('direction', 'direction') }}

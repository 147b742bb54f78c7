{{ label_dimension('unit', 'unit') }}

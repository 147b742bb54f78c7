{#- Primary suppression holds: every published value or count of a case mart rests on at least
    min_cell citizens (or on none), and a suppressed cell publishes neither. `bases` holds the
    true, unpublished base of every cell. -#}
{% test small_cells_are_suppressed(model, bases) %}
select published.*
from {{ model }} as published
inner join {{ bases }} as base
    using (arrival_year, outcome_code, programme, sex, age_band)
where (base.base_citizens between 1 and {{ min_cell() - 1 }} and not published.is_suppressed)
   or (published.is_suppressed and (published.value is not null or published.base_citizens is not null))
   or (not published.is_suppressed and published.base_citizens is distinct from
       (case when published.is_cohort_too_young then null else base.base_citizens end))
{% endtest %}

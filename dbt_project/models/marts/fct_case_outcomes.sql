{#- Københavnermodellen's outcomes per arrival cohort, programme, sex and age band ('all' =
    every value of that dimension), one row per outcome, small cells suppressed. -#}
with outcomes as (
    select * from {{ ref('int_case_outcomes_suppressed') }}
)

select
    arrival_year,
    programme,
    sex,
    age_band,
    outcome_code,
    unit,
    base_group,
    window_days,
    value,
    base_citizens,
    is_suppressed,
    suppression_reason,
    suppression_round,
    is_cohort_too_young,
    min_cell,
    as_of_date
from outcomes

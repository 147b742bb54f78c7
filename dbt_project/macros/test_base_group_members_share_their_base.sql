{#- The outcomes of one base group rest on the same citizens in every cell where their cohort is
    old enough: what lets one suppression pattern protect them all. -#}
{% test base_group_members_share_their_base(model) %}
select arrival_year, base_group, programme, sex, age_band,
    min(base_citizens) as smallest_base, max(base_citizens) as largest_base
from {{ model }}
where not is_cohort_too_young
group by arrival_year, base_group, programme, sex, age_band
having min(base_citizens) <> max(base_citizens)
{% endtest %}

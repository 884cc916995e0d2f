/* sqscount.c: a queue's message counts, for bb-status (sqs.h). */
#include "sqs.h"

#include <stdlib.h>
#include <string.h>

static int64_t count_of(jv attrs, const char *name)
{
	int64_t n = -1;
	if (jv_get_kind(attrs) != JV_KIND_OBJECT)
		return -1;
	jv v = jv_object_get(jv_copy(attrs), jv_string(name));
	if (jv_get_kind(v) == JV_KIND_STRING) {
		char *end;
		long long x = strtoll(jv_string_value(v), &end, 10);
		if (*jv_string_value(v) && !*end && x >= 0)
			n = x;
	} else if (jv_get_kind(v) == JV_KIND_NUMBER) {
		n = (int64_t)jv_number_value(v);
	}
	jv_free(v);
	return n;
}

int bb_sqs_queue_counts(struct bb_sqs *s, const char *queue, int64_t counts[3], struct bb_sqs_error *err)
{
	static const char *const names[3] = { "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
					       "ApproximateNumberOfMessagesDelayed" };
	jv list = jv_array(), resp;

	for (int i = 0; i < 3; i++)
		list = jv_array_append(list, jv_string(names[i]));
	jv req = jv_object_set(jv_object(), jv_string("QueueUrl"), jv_string(queue));
	req = jv_object_set(req, jv_string("AttributeNames"), list);
	if (bb_sqs_call(s, "GetQueueAttributes", req, &resp, err) != 0)
		return -1;
	jv attrs = jv_null();
	if (jv_get_kind(resp) == JV_KIND_OBJECT)
		attrs = jv_object_get(resp, jv_string("Attributes"));
	else
		jv_free(resp);
	for (int i = 0; i < 3; i++)
		counts[i] = count_of(attrs, names[i]);
	jv_free(attrs);
	return 0;
}

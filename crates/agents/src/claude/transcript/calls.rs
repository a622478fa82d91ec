//! A transcript's tool calls: started, finished, and what a finished one changed (files,
//! the todo list, tasks).

use super::*;

fn is_file_tool(tool: &str) -> bool {
    matches!(tool, "Edit" | "Write" | "MultiEdit" | "NotebookEdit")
}

fn is_todo_tool(tool: &str) -> bool {
    matches!(tool, "TodoWrite" | "TaskCreate" | "TaskUpdate")
}
fn todo_status(s: &str) -> Option<TodoStatus> {
    match s {
        "pending" | "open" | "todo" => Some(TodoStatus::Pending),
        "in_progress" | "in-progress" | "active" => Some(TodoStatus::InProgress),
        "completed" | "done" | "complete" => Some(TodoStatus::Completed),
        _ => None,
    }
}

impl ClaudeTranscript {
    pub(super) fn finish_call(
        &mut self,
        id: &str,
        is_error: bool,
        text: &str,
        tool_use_result: Option<&Value>,
        ts: Option<u64>,
    ) {
        let call = self
            .pending
            .iter()
            .position(|(pid, _)| pid == id)
            .and_then(|i| self.pending.remove(i))
            .map(|(_, c)| c);
        let tool_ms = tool_use_result
            .and_then(|r| r.get("durationMs"))
            .and_then(Value::as_u64);
        if let Some(a) = self.rec.finish_action(id, is_error, tool_ms, ts) {
            if is_error {
                a.error = Some(one_line(text.trim(), 300));
            } else {
                a.result_summary = Some(summarize_result(text));
            }
        }
        let Some(call) = call else { return };
        if is_error {
            return;
        }
        if is_file_tool(&call.tool) {
            self.record_file_change(&call, tool_use_result, ts);
        } else if call.tool == "TodoWrite" {
            // Applied once the tool accepted it: a disabled or failing TodoWrite changes
            // nothing.
            self.apply_todo_write(&call.input, ts);
        } else if is_todo_tool(&call.tool) {
            self.record_task_result(&call, text, tool_use_result, ts);
        }
    }

    pub(super) fn start_call(&mut self, b: &Value, ts: Option<u64>) {
        let tool = str_of(b, "name").unwrap_or("").to_owned();
        let input = b.get("input").cloned().unwrap_or(Value::Null);
        let id = str_of(b, "id").map(str::to_owned);
        let summary = input_summary(&tool, &input);
        self.rec.start_action(id.clone(), tool.clone(), summary, ts);
        if let Some(id) = id {
            let keep_input = is_file_tool(&tool) || is_todo_tool(&tool);
            self.pending.push_back((
                id,
                PendingCall {
                    tool,
                    input: if keep_input { input } else { Value::Null },
                    started_ms: ts,
                },
            ));
            if self.pending.len() > MAX_PENDING_CALLS {
                self.pending.pop_front();
            }
        }
    }

    fn record_file_change(&mut self, call: &PendingCall, result: Option<&Value>, ts: Option<u64>) {
        let input = &call.input;
        let path = str_of(input, "file_path")
            .or_else(|| str_of(input, "notebook_path"))
            .or_else(|| result.and_then(|r| str_of(r, "filePath")));
        let Some(path) = path.map(str::to_owned) else {
            return;
        };
        let created =
            call.tool == "Write" && result.and_then(|r| str_of(r, "type")) == Some("create");
        let (diff, added, removed) = edit_diff(&call.tool, input, result);
        let at = ts.or(call.started_ms);
        let Some(file) = self.rec.change_file(path, created, (added, removed), at) else {
            self.files_over_limit += 1;
            return;
        };
        if !diff.is_empty() {
            let d = file.diff.get_or_insert_with(String::new);
            let before = d.len();
            let room = MAX_DIFF
                .saturating_sub(d.len())
                .min(MAX_DIFF_TOTAL.saturating_sub(self.diff_bytes));
            if diff.len() <= room {
                d.push_str(&diff);
            } else {
                let mut end = room;
                while end > 0 && !diff.is_char_boundary(end) {
                    end -= 1;
                }
                d.push_str(&diff[..end]);
                file.diff_truncated = true;
            }
            self.diff_bytes += d.len() - before;
        }
    }

    fn apply_todo_write(&mut self, input: &Value, ts: Option<u64>) {
        let Some(todos) = input.get("todos").and_then(Value::as_array) else {
            return;
        };
        let items: Vec<TodoItem> = todos
            .iter()
            .filter_map(|t| {
                let content = str_of(t, "content").or_else(|| str_of(t, "subject"))?;
                Some(TodoItem {
                    id: str_of(t, "id").map(str::to_owned),
                    content: cut(content, 300),
                    status: todo_status(str_of(t, "status").unwrap_or("pending"))?,
                    active_form: str_of(t, "activeForm").map(str::to_owned),
                })
            })
            .collect();
        self.set_todos(items, ts);
    }

    fn set_todos(&mut self, items: Vec<TodoItem>, ts: Option<u64>) {
        let was_open = self.todos.iter().any(|t| t.status != TodoStatus::Completed);
        let none_done_now = items.iter().all(|t| t.status != TodoStatus::Completed);
        // A new list (nothing open before, or a fresh list with nothing done): the pace is
        // measured from now.
        if !was_open || self.todos_started_ms.is_none() || (none_done_now && !items.is_empty()) {
            self.todos_started_ms = ts.or(self.rec.last_ms);
        }
        self.todos = items;
    }

    fn record_task_result(
        &mut self,
        call: &PendingCall,
        text: &str,
        result: Option<&Value>,
        ts: Option<u64>,
    ) {
        let input = &call.input;
        match call.tool.as_str() {
            "TaskCreate" => {
                let content = str_of(input, "subject")
                    .or_else(|| str_of(input, "description"))
                    .unwrap_or("")
                    .to_owned();
                self.next_task_number += 1;
                // The id the tool gave: in its structured result, else "Task #3" in its text.
                let id = result
                    .and_then(|r| r.get("task"))
                    .and_then(|t| t.get("id"))
                    .and_then(|id| match id {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .or_else(|| {
                        let i = text.find('#')?;
                        let digits: String = text[i + 1..]
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect();
                        (!digits.is_empty()).then_some(digits)
                    })
                    .unwrap_or_else(|| self.next_task_number.to_string());
                let mut items = self.todos.clone();
                items.push(TodoItem {
                    id: Some(id),
                    content: cut(&content, 300),
                    status: TodoStatus::Pending,
                    active_form: str_of(input, "activeForm").map(str::to_owned),
                });
                self.set_todos(items, ts);
            }
            "TaskUpdate" => {
                let id = input
                    .get("taskId")
                    .or_else(|| input.get("id"))
                    .and_then(|id| match id {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    });
                let Some(id) = id else { return };
                let Some(pos) = self.todos.iter().position(|t| t.id.as_deref() == Some(&id)) else {
                    return;
                };
                match str_of(input, "status") {
                    Some("deleted") => {
                        self.todos.remove(pos);
                    }
                    Some(s) => {
                        if let Some(st) = todo_status(s) {
                            self.todos[pos].status = st;
                        }
                    }
                    None => {}
                }
                if let (Some(subject), Some(t)) =
                    (str_of(input, "subject"), self.todos.get_mut(pos))
                {
                    t.content = cut(subject, 300);
                }
            }
            _ => {}
        }
    }
}

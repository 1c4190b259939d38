export default function Unauthorized() {
  return (
    <main className="message">
      <div className="card" role="alert">
        <h1>Open Gradesync from your course</h1>
        <p>Your session has ended or this page was opened outside your course. Go back to the assignment in your LMS and open it again.</p>
      </div>
    </main>
  );
}
